import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** The part of `fetch` viem's HTTP transport calls: a POST of a string body, answered with text. */
export type RpcFetch = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal | null },
) => Promise<RpcResponse>;

/** The part of a `Response` viem's HTTP transport reads. */
export interface RpcResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers: Headers;
  /** Always null: the whole body is read before the response resolves, and served by `text`. */
  body: null;
  text(): Promise<string>;
}

/**
 * `fetch` for JSON-RPC over `node:http(s)` with keep-alive connections, for viem's `http` transport
 * (`fetchFn`). The global `fetch` (undici) costs the event loop several times as much per call — request objects,
 * web streams, a write per body chunk — and the relayer makes a call or more per batch on the thread that also
 * serves its API. Aborting `init.signal` (viem's timeout) destroys the request.
 *
 * @example
 * const transport = http(rpcUrl, { fetchFn: createNodeFetch() as unknown as typeof fetch });
 */
export function createNodeFetch(): RpcFetch {
  const agents = {
    "http:": new HttpAgent({ keepAlive: true, scheduling: "lifo" }),
    "https:": new HttpsAgent({ keepAlive: true, scheduling: "lifo" }),
  };
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === "https:";
      if (!secure && target.protocol !== "http:") {
        reject(new TypeError(`Unsupported protocol ${target.protocol}`));
        return;
      }
      const body = init.body ?? "";
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: init.method ?? "POST",
          agent: secure ? agents["https:"] : agents["http:"],
          headers: { ...init.headers, "content-length": Buffer.byteLength(body) },
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve(toRpcResponse(response, text));
          });
        },
      );
      request.on("error", reject);
      request.end(body);
    });
}

function toRpcResponse(response: IncomingMessage, text: string): RpcResponse {
  const status = response.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2)
    headers.append(response.rawHeaders[i] as string, response.rawHeaders[i + 1] as string);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? "",
    headers,
    body: null,
    text: () => Promise.resolve(text),
  };
}
