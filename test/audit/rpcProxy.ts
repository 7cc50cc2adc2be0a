import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** The part of an EIP-1193 provider the proxy needs. */
interface RequestProvider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

/** A JSON-RPC request as the proxy sees it. */
export interface ProxiedRequest {
  method: string;
  params: unknown[];
}

/** A running proxy. */
export interface RpcProxy {
  url: string;
  /** Methods of every request served, in order. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Serves an in-process provider (Hardhat's EDR) as a JSON-RPC endpoint on 127.0.0.1, so code that takes an
 * RPC URL — the `qrsettle audit` CLI — can run against it. `fail` may answer a request with a JSON-RPC
 * error instead, to play a node that limits ranges or times out.
 *
 * @example
 * const proxy = await serveOverHttp(connection.provider);
 * await runAuditCommand(["--rpc", proxy.url, ...], io);
 * await proxy.close();
 */
export async function serveOverHttp(
  provider: RequestProvider,
  fail?: (request: ProxiedRequest) => string | undefined,
): Promise<RpcProxy> {
  const requests: ProxiedRequest[] = [];
  const answer = async (call: { id: unknown; method: string; params?: unknown[] }) => {
    const request = { method: call.method, params: call.params ?? [] };
    requests.push(request);
    const refusal = fail?.(request);
    if (refusal !== undefined)
      return { jsonrpc: "2.0", id: call.id, error: { code: -32005, message: refusal } };
    try {
      return { jsonrpc: "2.0", id: call.id, result: await provider.request(request) };
    } catch (error) {
      const { code, message, data } = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: call.id,
        error: { code: code ?? -32603, message: message ?? "error", data },
      };
    }
  };
  const server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const parsed = JSON.parse(body) as unknown;
      const reply = Array.isArray(parsed)
        ? await Promise.all(parsed.map((call) => answer(call as never)))
        : await answer(parsed as never);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify(reply, (_key, value: unknown) =>
          typeof value === "bigint" ? `0x${value.toString(16)}` : value,
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
