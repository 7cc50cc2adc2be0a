/**
 * A JSON-RPC proxy that breaks things on purpose, between the relayer and a real node: it drops, delays, fails
 * or duplicates requests and responses, and can let a request reach the node yet never answer (a timeout
 * after a send that succeeded).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What to do with one request. */
export type Fault =
  | "pass"
  /** Close the connection without forwarding. */
  | "drop"
  /** Forward after a delay. */
  | "delay"
  /** Answer HTTP 503 without forwarding. */
  | "failBefore"
  /** Forward, then answer HTTP 500 instead of the node's answer. */
  | "failAfter"
  /** Forward twice; answer with the second answer. */
  | "duplicate"
  /** Forward, then hold the connection until the client gives up. */
  | "timeoutAfterSend";

export interface FaultProxy {
  url: string;
  /** How many times each fault was applied, by JSON-RPC method. */
  applied: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Starts the proxy in front of `upstream`; `decide` picks the fault for each request by its method.
 *
 * @example
 * const proxy = await startFaultProxy(anvil.url, (method) => (Math.random() < 0.2 ? "drop" : "pass"));
 */
export async function startFaultProxy(
  upstream: string,
  decide: (method: string) => Fault,
): Promise<FaultProxy> {
  const applied = new Map<string, number>();
  const held: ServerResponse[] = [];
  const forward = async (body: string) => {
    const response = await fetch(upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return response.text();
  };
  const answer = (response: ServerResponse, status: number, text: string) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(text);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const method = String((JSON.parse(body) as { method?: string }).method);
    const fault = decide(method);
    if (fault !== "pass") applied.set(`${method}:${fault}`, (applied.get(`${method}:${fault}`) ?? 0) + 1);
    switch (fault) {
      case "drop":
        request.socket.destroy();
        return;
      case "failBefore":
        answer(response, 503, "service unavailable");
        return;
      case "delay":
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
        answer(response, 200, await forward(body));
        return;
      case "failAfter":
        await forward(body);
        answer(response, 500, "internal error");
        return;
      case "duplicate":
        await forward(body);
        answer(response, 200, await forward(body));
        return;
      case "timeoutAfterSend":
        await forward(body);
        held.push(response);
        return;
      default:
        answer(response, 200, await forward(body));
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    applied,
    close: () =>
      new Promise((resolve) => {
        for (const response of held) response.socket?.destroy();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
