import { createPublicClient, http, type PublicClient, type Transport } from "viem";

import type { RelayerConfig } from "../config.ts";

/**
 * The JSON-RPC client of the relayer. Requests are never retried by the transport: the relayer decides what a
 * failure means (a retried `eth_sendRawTransaction` must be classified, not repeated blindly). Nothing is
 * cached: every block number is fresh. Tests may pass another transport, e.g. Hardhat's in-process provider.
 *
 * @example
 * const client = createChainClient(config.chain);
 * const head = await client.getBlockNumber();
 */
export function createChainClient(config: RelayerConfig["chain"], transport?: Transport): PublicClient {
  return createPublicClient({
    transport: transport ?? http(config.rpcUrl, { timeout: config.rpcTimeoutMs, retryCount: 0 }),
    cacheTime: 0,
    pollingInterval: config.pollIntervalMs,
  });
}
