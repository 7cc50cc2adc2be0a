import type { PublicClient } from "viem";

import { marketFees, type FeeFields, type FeePolicy } from "../chain/fees.ts";

/**
 * Market fees, read at most once per `maxAgeMs` however many batches are signed meanwhile.
 *
 * @example
 * const fees = createFeeSource(client, config.fees, config.chain.pollIntervalMs);
 * const current = await fees(); // FeeFields
 */
export function createFeeSource(
  client: PublicClient,
  policy: FeePolicy,
  maxAgeMs: number,
): () => Promise<FeeFields> {
  let cached: { at: number; fees: Promise<FeeFields> } | undefined;
  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > maxAgeMs) {
      const fees = marketFees(client, policy);
      cached = { at: now, fees };
      fees.catch(() => {
        if (cached?.fees === fees) cached = undefined;
      });
    }
    return cached.fees;
  };
}
