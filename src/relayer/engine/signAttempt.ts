import { storedFees } from "../chain/fees.ts";
import type { HotWallet, UnsignedTransaction } from "../chain/hotWallets.ts";
import type { NewAttempt } from "../store/types.ts";

/**
 * Signs a transaction into an attempt ready to persist: signed bytes, their hash (computed locally, so it is
 * known even if the node never answers) and the fees.
 *
 * @example
 * const attempt = await signAttempt(wallet, { chainId, nonce, to: ledger, data, gas, fees }, false);
 * await store.addAttempt(transactionId, attempt); // before broadcasting
 */
export async function signAttempt(
  wallet: HotWallet,
  transaction: UnsignedTransaction,
  cancel: boolean,
): Promise<NewAttempt> {
  const { raw, hash } = await wallet.signTransaction(transaction);
  return { hash, raw, fees: storedFees(transaction.fees), cancel, createdAt: Date.now() };
}
