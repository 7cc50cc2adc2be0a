import type { PublicClient } from "viem";

import type { RelayerConfig } from "../config.ts";

/** The fee fields of a transaction: EIP-1559 (type 2) or a gas price (type 0, legacy and zero-gas chains). */
export type FeeFields =
  | { type: "eip1559"; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  | { type: "legacy"; gasPrice: bigint };

/** The fee policy's parameters, as configured. */
export type FeePolicy = RelayerConfig["fees"];

/** What nodes require of a replacement: each fee at least 10% above the replaced one (geth's PriceBump). */
const NODE_MINIMUM_BUMP_PERCENT = 10n;

const raise = (value: bigint, percent: bigint) => value + (value * percent + 99n) / 100n;
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * The fees to offer now: for `eip1559`, the next block's base fee times `baseFeeMultiplier` plus a priority fee
 * at `rewardPercentile` of the last `feeHistoryBlocks` blocks; for `legacy`, eth_gasPrice; for `zero`, nothing.
 * Every value is held under its cap.
 *
 * @example
 * const fees = await marketFees(client, config.fees); // { type: "eip1559", maxFeePerGas, maxPriorityFeePerGas }
 */
export async function marketFees(client: PublicClient, policy: FeePolicy): Promise<FeeFields> {
  const feeCap = BigInt(policy.maxFeePerGas);
  if (policy.mode === "zero") return { type: "legacy", gasPrice: 0n };
  if (policy.mode === "legacy") return { type: "legacy", gasPrice: min(feeCap, await client.getGasPrice()) };
  const history = await client.getFeeHistory({
    blockCount: policy.feeHistoryBlocks,
    blockTag: "latest",
    rewardPercentiles: [policy.rewardPercentile],
  });
  const nextBaseFee = history.baseFeePerGas.at(-1) ?? 0n;
  const rewards = (history.reward ?? [])
    .map((row) => row[0] ?? 0n)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const median = rewards[Math.floor(rewards.length / 2)] ?? 0n;
  const priority = min(BigInt(policy.maxPriorityFeePerGas), max(BigInt(policy.minPriorityFeePerGas), median));
  const maxFeePerGas = min(feeCap, nextBaseFee * BigInt(policy.baseFeeMultiplier) + priority);
  return { type: "eip1559", maxFeePerGas, maxPriorityFeePerGas: min(priority, maxFeePerGas) };
}

/**
 * The fees of a replacement for a stalled transaction: each fee raised by `bumpPercent` (at least the 10% nodes
 * require) or to the market's if that is higher, under the caps. Undefined when the caps leave no room for a
 * valid replacement (the caller then re-sends the same bytes), or on a zero-gas chain.
 *
 * @example
 * bumpFees({ type: "eip1559", maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, market, policy);
 * // { type: "eip1559", maxFeePerGas: 115n, maxPriorityFeePerGas: 12n } with bumpPercent 15
 */
export function bumpFees(previous: FeeFields, market: FeeFields, policy: FeePolicy): FeeFields | undefined {
  if (policy.mode === "zero") return undefined;
  const percent = BigInt(policy.bumpPercent);
  const feeCap = BigInt(policy.maxFeePerGas);
  const enough = (next: bigint, old: bigint) => next >= raise(old, NODE_MINIMUM_BUMP_PERCENT);
  if (previous.type === "legacy") {
    const marketPrice = market.type === "legacy" ? market.gasPrice : market.maxFeePerGas;
    const gasPrice = min(feeCap, max(raise(previous.gasPrice, percent), marketPrice));
    return gasPrice > previous.gasPrice && enough(gasPrice, previous.gasPrice)
      ? { type: "legacy", gasPrice }
      : undefined;
  }
  const marketMax = market.type === "eip1559" ? market.maxFeePerGas : market.gasPrice;
  const marketPriority = market.type === "eip1559" ? market.maxPriorityFeePerGas : 0n;
  const maxFeePerGas = min(feeCap, max(raise(previous.maxFeePerGas, percent), marketMax));
  const maxPriorityFeePerGas = min(
    maxFeePerGas,
    min(
      BigInt(policy.maxPriorityFeePerGas),
      max(raise(previous.maxPriorityFeePerGas, percent), marketPriority),
    ),
  );
  if (
    !enough(maxFeePerGas, previous.maxFeePerGas) ||
    !enough(maxPriorityFeePerGas, previous.maxPriorityFeePerGas)
  ) {
    return undefined;
  }
  if (maxFeePerGas === previous.maxFeePerGas && maxPriorityFeePerGas === previous.maxPriorityFeePerGas)
    return undefined;
  return { type: "eip1559", maxFeePerGas, maxPriorityFeePerGas };
}

/**
 * Fee fields as stored with an attempt (decimal strings), and back.
 *
 * @example
 * feesFromStored(storedFees(fees)); // equals fees
 */
export function storedFees(fees: FeeFields): {
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  gasPrice?: string;
} {
  return fees.type === "legacy"
    ? { gasPrice: fees.gasPrice.toString() }
    : {
        maxFeePerGas: fees.maxFeePerGas.toString(),
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      };
}

/** The inverse of `storedFees`. */
export function feesFromStored(stored: {
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  gasPrice?: string;
}): FeeFields {
  return stored.gasPrice !== undefined
    ? { type: "legacy", gasPrice: BigInt(stored.gasPrice) }
    : {
        type: "eip1559",
        maxFeePerGas: BigInt(stored.maxFeePerGas ?? "0"),
        maxPriorityFeePerGas: BigInt(stored.maxPriorityFeePerGas ?? "0"),
      };
}
