import { createPublicClient, http, type PublicClient, type Transport } from "viem";

import type { RelayerConfig } from "../config.ts";
import { createNodeFetch } from "./nodeFetch.ts";

/**
 * The JSON-RPC client of the relayer. Requests are never retried by the transport: the relayer decides what a
 * failure means (a retried `eth_sendRawTransaction` must be classified, not repeated blindly). Nothing is
 * cached: every block number is fresh. HTTP goes through `node:http` (`createNodeFetch`), not the global `fetch`.
 * Tests may pass another transport, e.g. Hardhat's in-process provider.
 * With `batchReads`, for a client that only reads (the intake's ledger view), concurrent requests are batched.
 *
 * @example
 * const client = createChainClient(config.chain);
 * const head = await client.getBlockNumber();
 */
export function createChainClient(
  config: RelayerConfig["chain"],
  transport?: Transport,
  options: { batchReads?: boolean } = {},
): PublicClient {
  return createPublicClient({
    transport:
      transport ??
      http(config.rpcUrl, {
        timeout: config.rpcTimeoutMs,
        retryCount: 0,
        fetchFn: createNodeFetch() as unknown as typeof fetch,
        // Reads issued in one turn of the event loop travel in one JSON-RPC batch: a burst of payers the
        // intake has not seen costs the node one HTTP request, not two per payer.
        batch: options.batchReads === true ? { batchSize: 100, wait: 0 } : false,
      }),
    cacheTime: 0,
    pollingInterval: config.pollIntervalMs,
  });
}
