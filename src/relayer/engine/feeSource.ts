import type { PublicClient } from "viem";

import { marketFees, type FeeFields, type FeePolicy } from "../chain/fees.ts";

/** The chain head as the relayer last read it: its number, and when the read came back (ms since the epoch). */
export interface SeenHead {
  number: number;
  at: number;
}

/**
 * Market fees, read again only when they may have changed. Fees follow blocks, so one read serves every batch
 * signed until the chain's head moves: a read is reused while a later look at the head (`seenHead`, the
 * tracker's) still finds the head it was made at, that look at most `maxAgeMs` old. Without such a look (the
 * tracker idle, the chain not answering) a read serves for `maxAgeMs`.
 *
 * Besides RPC calls this saves a node work: Hardhat's EDR answers eth_feeHistory by executing every transaction
 * in its mempool to price the next block, so on a chain with a block time each read costs it as much as mining
 * the transactions waiting there.
 *
 * @example
 * const fees = createFeeSource(client, config.fees, {
 *   maxAgeMs: 2 * config.chain.pollIntervalMs,
 *   seenHead: () => (tracker.head === undefined ? undefined : { number: tracker.head, at: tracker.headAt }),
 * });
 * const current = await fees(); // FeeFields
 */
export function createFeeSource(
  client: PublicClient,
  policy: FeePolicy,
  options: { maxAgeMs: number; seenHead: () => SeenHead | undefined; now?: () => number },
): () => Promise<FeeFields> {
  const { maxAgeMs, seenHead, now = Date.now } = options;
  let cached: { at: number; head: number | undefined; fees: Promise<FeeFields> } | undefined;
  const current = (at: number, head: SeenHead | undefined): boolean => {
    if (cached === undefined) return false;
    if (at - cached.at <= maxAgeMs) return true;
    // The head was looked at after this read, recently, and had not moved.
    return (
      head !== undefined && head.number === cached.head && head.at >= cached.at && at - head.at <= maxAgeMs
    );
  };
  return () => {
    const at = now();
    const head = seenHead();
    if (cached === undefined || !current(at, head)) {
      const fees = marketFees(client, policy);
      cached = { at, head: head?.number, fees };
      fees.catch(() => {
        if (cached?.fees === fees) cached = undefined;
      });
    }
    return cached.fees;
  };
}
