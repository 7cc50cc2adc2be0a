import type { Hex } from "viem";

/** Intrinsic gas of any transaction. */
export const TX_BASE_GAS = 21_000n;
/** EIP-7623: the calldata floor charges 10 gas per token (a zero byte is 1 token, any other byte 4). */
const FLOOR_GAS_PER_TOKEN = 10n;

/**
 * Calldata tokens as EIP-7623 counts them: zero bytes count 1, other bytes 4.
 *
 * @example
 * calldataTokens("0x0001"); // 5
 */
export function calldataTokens(data: Hex): bigint {
  let zeros = 0;
  const bytes = Buffer.from(data.slice(2), "hex");
  for (const byte of bytes) if (byte === 0) zeros++;
  return BigInt(zeros + 4 * (bytes.length - zeros));
}

/**
 * The least gas a transaction with this calldata is charged under EIP-7623 (Prague): 21,000 plus 10 per token.
 * A gas limit below it is refused by the node, whatever execution needs.
 *
 * @example
 * calldataFloorGas("0x"); // 21000n
 */
export function calldataFloorGas(data: Hex): bigint {
  return TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * calldataTokens(data);
}

/**
 * The gas limit to sign: the estimate (or budget) plus `marginPercent`, at least the EIP-7623 floor. Undefined
 * when that exceeds `cap` (EIP-7825's per-transaction cap on Hardhat's default hardfork), so the caller splits
 * the batch.
 *
 * @example
 * batchGasLimit(7_000_000n, data, 20, 16_777_216n); // 8_400_000n (or the floor, if higher)
 */
export function batchGasLimit(
  needed: bigint,
  data: Hex,
  marginPercent: number,
  cap: bigint,
): bigint | undefined {
  const withMargin = needed + (needed * BigInt(marginPercent) + 99n) / 100n;
  const floor = calldataFloorGas(data);
  const limit = withMargin > floor ? withMargin : floor;
  return limit <= cap ? limit : undefined;
}
