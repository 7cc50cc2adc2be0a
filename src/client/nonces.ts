/**
 * Choosing a payer's next nonce. The ledger keeps, per payer and currency, a base and a 64-bit bitmap of used
 * nonces above it (see docs/contracts.md); a wallet signs with the lowest nonce not yet used.
 */
import type { Address, PublicClient } from "viem";

import { settlementLedgerAbi } from "../protocol/generated/abi.ts";

/** The window of nonces the ledger accepts above an account's base. */
export const NONCE_WINDOW = 64n;

/**
 * The lowest nonce at or above `base` whose bit is clear in `bitmap`; `undefined` when all 64 are used (the
 * account's base then has to move first, which the ledger does as nonces fill up).
 *
 * @example
 * firstFreeNonce(10n, 0b0111n); // 13n
 */
export function firstFreeNonce(base: bigint, bitmap: bigint): bigint | undefined {
  for (let offset = 0n; offset < NONCE_WINDOW; offset++) {
    if (((bitmap >> offset) & 1n) === 0n) return base + offset;
  }
  return undefined;
}

/**
 * The payer's lowest nonce in `currency` not used on chain. A payment waiting in a relayer's queue is not on
 * chain yet: a wallet with payments in flight keeps its own counter above this.
 *
 * @example
 * const nonce = await nextNonce(publicClient, deployment.ledger, payer, 156);
 */
export async function nextNonce(
  client: PublicClient,
  ledger: Address,
  payer: Address,
  currency: number,
): Promise<bigint> {
  const account = await client.readContract({
    address: ledger,
    abi: settlementLedgerAbi,
    functionName: "getAccount",
    args: [payer, currency],
  });
  const nonce = firstFreeNonce(BigInt(account.nonceBase), account.nonceBitmap);
  if (nonce === undefined) throw new RangeError(`all 64 nonces above ${account.nonceBase} are used`);
  return nonce;
}
