import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { createPublicClient, http, type PublicClient } from "viem";

import { classifyRpcError } from "../../src/relayer/chain/classifyRpcError.ts";
import { createNodeFetch } from "../../src/relayer/chain/nodeFetch.ts";

type Reply = (body: { method: string; id: number }, response: ServerResponse) => void;

/** A JSON-RPC server whose answer to each method is `reply`'s. */
async function rpcServer(reply: Reply): Promise<{ url: string; server: Server }> {
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      reply(JSON.parse(Buffer.concat(chunks).toString()) as never, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};

/** The same request through viem's HTTP transport with the global fetch and with ours. */
function bothClients(url: string, timeout = 2_000): PublicClient[] {
  return [undefined, createNodeFetch() as unknown as typeof fetch].map((fetchFn) =>
    createPublicClient({
      transport: http(url, { retryCount: 0, timeout, ...(fetchFn ? { fetchFn } : {}) }),
      cacheTime: 0,
    }),
  );
}

/** What a call ended in, as the relayer sees it: the value, or the error's class, name and message. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call() };
  } catch (error) {
    const { name, shortMessage } = error as { name: string; shortMessage?: string };
    return { error: name, class: classifyRpcError(error), message: shortMessage };
  }
}

describe("node:http fetch for the JSON-RPC client", function () {
  const servers: Server[] = [];
  afterEach(function () {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });
  const serve = async (reply: Reply) => {
    const { url, server } = await rpcServer(reply);
    servers.push(server);
    return url;
  };

  it("gives viem the same results and errors as the global fetch", async function () {
    const url = await serve((body, response) => {
      if (body.method === "eth_blockNumber")
        json(response, 200, { jsonrpc: "2.0", id: body.id, result: "0x2a" });
      else if (body.method === "eth_chainId")
        json(response, 200, {
          jsonrpc: "2.0",
          id: body.id,
          error: { code: -32000, message: "nonce too low" },
        });
      else if (body.method === "eth_gasPrice")
        json(response, 429, {
          jsonrpc: "2.0",
          id: body.id,
          error: { code: -32005, message: "rate limited" },
        });
      else {
        response.writeHead(502, { "content-type": "text/plain" });
        response.end("bad gateway");
      }
    });
    const calls: ((client: PublicClient) => Promise<unknown>)[] = [
      (client) => client.getBlockNumber(),
      (client) => client.getChainId(),
      (client) => client.getGasPrice(),
      (client) => client.getTransactionCount({ address: "0x0000000000000000000000000000000000000001" }),
    ];
    const [viaFetch, viaNode] = bothClients(url) as [PublicClient, PublicClient];
    for (const call of calls) {
      const expected = await outcome(() => call(viaFetch));
      expect(await outcome(() => call(viaNode))).to.deep.equal(expected);
    }
    expect(await outcome(() => viaNode.getBlockNumber())).to.deep.equal({ value: 42n });
  });

  it("times out a node that never answers, and a refused connection is a network error", async function () {
    const url = await serve(() => undefined);
    for (const client of bothClients(url, 200))
      expect(await outcome(() => client.getBlockNumber())).to.include({
        error: "TimeoutError",
        class: "timeout",
      });

    const closed = await serve(() => undefined);
    const [server] = servers.splice(-1) as [Server];
    await new Promise((resolve) => server.close(resolve));
    const [viaFetch, viaNode] = bothClients(closed) as [PublicClient, PublicClient];
    const refused = await outcome(() => viaNode.getBlockNumber());
    expect(refused).to.deep.equal(await outcome(() => viaFetch.getBlockNumber()));
    expect(refused).to.include({ error: "HttpRequestError" });
  });

  it("reuses one connection for calls in sequence", async function () {
    const sockets = new Set<unknown>();
    const url = await serve((body, response) => {
      sockets.add(response.socket);
      json(response, 200, { jsonrpc: "2.0", id: body.id, result: "0x1" });
    });
    const [, viaNode] = bothClients(url) as [PublicClient, PublicClient];
    for (let i = 0; i < 5; i++) await viaNode.getBlockNumber();
    expect(sockets.size).to.equal(1);
  });
});
