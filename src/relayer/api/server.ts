import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { z } from "zod";

import type { RelayerConfig } from "../config.ts";
import { ApiError } from "../errors.ts";
import type { RelayerLogger } from "../logger.ts";
import { createAuthenticator } from "./auth.ts";
import { createRateLimiter } from "./rateLimiter.ts";
import type { ApiContext, Route, RouteResult } from "./route.ts";

/** A running HTTP API. */
export interface ApiServer {
  /** `http://host:port`. */
  url: string;
  /** Stops accepting connections and waits for open requests to finish. */
  close(): Promise<void>;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  params: string[];
  /** Label for metrics: the path template, a closed set. */
  label: string;
}

function compile(route: Route): CompiledRoute {
  const params: string[] = [];
  const pattern = new RegExp(
    `^${route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      params.push(name);
      return "([^/]+)";
    })}$`,
  );
  return { route, pattern, params, label: `${route.method} ${route.path}` };
}

/** The first problem zod found, as "field.path: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/** Reads a body up to `limit` bytes; undefined if it is larger (and the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    request.on("error", reject);
  });
}

/**
 * Serves the API: matches a route, authenticates the client by API key (`Authorization: Bearer …`), applies
 * its rate limit, reads the body up to `api.maxBodyBytes`, validates body and query with the route's zod
 * schemas and answers errors as `{ "error": { "code", "number", "message" } }` with the code's HTTP status.
 * Unexpected errors answer `INTERNAL`; their details go to the log only.
 *
 * @example
 * const server = await startApiServer(config.api, ROUTES, context, logger, () => !draining);
 * console.log(server.url);
 */
export async function startApiServer(
  config: RelayerConfig["api"],
  routes: readonly Route[],
  context: ApiContext,
  logger: RelayerLogger,
  accepting: () => boolean,
): Promise<ApiServer> {
  const compiled = routes.map(compile);
  const authenticate = createAuthenticator(config.clients);
  const limiter = createRateLimiter();
  const { metrics } = context;

  const send = (response: ServerResponse, label: string, started: number, result: RouteResult) => {
    const text = result.contentType === undefined ? JSON.stringify(result.body) : String(result.body);
    response.writeHead(result.status, {
      "content-type": result.contentType ?? "application/json",
      "content-length": Buffer.byteLength(text),
    });
    response.end(text);
    metrics.httpRequests.inc({ route: label, status: String(result.status) });
    metrics.httpDuration.observe({ route: label }, (performance.now() - started) / 1000);
  };
  const failure = (error: ApiError): RouteResult => ({
    status: error.status,
    body: { error: { code: error.code, number: error.number, message: error.shortMessage } },
  });

  const handle = async (request: IncomingMessage, response: ServerResponse, started: number) => {
    const [path = "", queryString = ""] = (request.url ?? "/").split("?", 2);
    const candidates = compiled.filter((entry) => entry.pattern.test(path));
    const match = candidates.find((entry) => entry.route.method === request.method);
    if (match === undefined) {
      request.resume();
      const error =
        candidates.length === 0
          ? new ApiError("NOT_FOUND", `No route ${path}.`)
          : new ApiError("METHOD_NOT_ALLOWED", `${path} does not take ${request.method ?? ""}.`);
      send(response, "other", started, failure(error));
      return;
    }
    const { route, label } = match;
    try {
      let client;
      if (route.auth && config.auth === "required") {
        client = authenticate(request.headers.authorization);
        if (client === undefined)
          throw new ApiError("UNAUTHORIZED", "A valid API key is required (Authorization: Bearer <key>).");
        const waitSeconds = limiter.take(client.id, client.ratePerSecond, client.burst);
        if (waitSeconds > 0) {
          response.setHeader("retry-after", String(Math.ceil(waitSeconds)));
          throw new ApiError("RATE_LIMITED", "Too many requests for this API key.");
        }
      }
      if (route.mutating === true && !accepting())
        throw new ApiError("SHUTTING_DOWN", "The relayer is shutting down.");
      const params: Record<string, string> = {};
      const values = match.pattern.exec(path) ?? [];
      match.params.forEach((name, index) => (params[name] = decodeURIComponent(values[index + 1] ?? "")));
      let query: unknown = {};
      if (route.query !== undefined) {
        const parsed = route.query.safeParse(Object.fromEntries(new URLSearchParams(queryString)));
        if (!parsed.success) throw new ApiError("INVALID_QUERY", firstIssue(parsed.error));
        query = parsed.data;
      }
      let body: unknown;
      if (route.body !== undefined) {
        const type = request.headers["content-type"] ?? "";
        if (!type.toLowerCase().startsWith("application/json")) {
          request.resume();
          throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "The body must be application/json.");
        }
        const raw = await readBody(request, config.maxBodyBytes);
        if (raw === undefined) {
          response.setHeader("connection", "close");
          throw new ApiError("BODY_TOO_LARGE", `The body exceeds ${config.maxBodyBytes} bytes.`);
        }
        let json: unknown;
        try {
          json = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new ApiError("MALFORMED_JSON", "The body is not valid JSON.");
        }
        const parsed = route.body.safeParse(json);
        if (!parsed.success) throw new ApiError("INVALID_REQUEST", firstIssue(parsed.error));
        body = parsed.data;
      } else {
        request.resume();
      }
      send(
        response,
        label,
        started,
        await route.handle({ params, query, body, ...(client ? { client } : {}) }, context),
      );
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.code === "QUEUE_FULL") response.setHeader("retry-after", "1");
        if (error.status >= 500)
          logger.warn({ route: label, code: error.code, details: error.details }, error.shortMessage);
        else logger.debug({ route: label, code: error.code, details: error.details }, error.shortMessage);
        send(response, label, started, failure(error));
      } else {
        logger.error({ route: label, err: error }, "request failed unexpectedly");
        send(
          response,
          label,
          started,
          failure(new ApiError("INTERNAL", "Internal error; see the relayer's log.")),
        );
      }
    }
  };

  const server: Server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 30_000 },
    (request, response) => {
      void handle(request, response, performance.now());
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
