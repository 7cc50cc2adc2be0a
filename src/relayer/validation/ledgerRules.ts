/**
 * The ledger's per-item rules, checked before a payment or refund is accepted so that what the relayer accepts
 * the ledger will settle (unless the account changes in between, which the ledger then reports).
 */
import { ApiError } from "../errors.ts";
import type { ChainFigure } from "../store/types.ts";
import type { LedgerAccount, LedgerCustomerLimit } from "./ledgerView.ts";

/** Nonces are unordered within 64 above the account's base (`AccountLib.WINDOW`). */
const NONCE_WINDOW = 64n;
/** `AccountLib.MAX_NONCE`. */
const MAX_NONCE = (1n << 47n) - 1n;
const MAX_AMOUNT = (1n << 96n) - 1n;
/** Deadlines are 40 bits in the batch encoding. */
const MAX_DEADLINE = (1n << 40n) - 1n;

/**
 * The deadline must be far enough ahead for a batch to land (`minSeconds`) and fit the batch encoding.
 *
 * @example
 * checkDeadline(payment.deadline, Date.now(), 30);
 */
export function checkDeadline(deadline: bigint, nowMs: number, minSeconds: number): void {
  if (deadline > MAX_DEADLINE) {
    throw new ApiError("INVALID_REQUEST", "deadline must be below 2^40 (unix seconds).");
  }
  const earliest = BigInt(Math.floor(nowMs / 1000) + minSeconds);
  if (deadline < earliest) {
    throw new ApiError(
      "PAYMENT_EXPIRED",
      `The deadline ${deadline} is past or less than ${minSeconds} s away.`,
    );
  }
}

/**
 * The amount must be positive, fit 96 bits and respect the bank's single-payment cap (0: none).
 *
 * @example
 * checkAmount(payment.amount, await ledger.maxPayment(bankId, currency));
 */
export function checkAmount(amount: bigint, maxPayment: bigint): void {
  if (amount === 0n || amount > MAX_AMOUNT) {
    throw new ApiError("AMOUNT_INVALID", "The amount must be positive and below 2^96.");
  }
  if (maxPayment !== 0n && amount > maxPayment) {
    throw new ApiError(
      "AMOUNT_INVALID",
      `The amount exceeds the bank's single-payment cap of ${maxPayment}.`,
    );
  }
}

/**
 * The signer must be a customer of `bankId` and not frozen.
 *
 * @example
 * checkSigner(await ledger.account(payer, currency), bankId);
 */
export function checkSigner(account: LedgerAccount, bankId: number): void {
  if (account.bankId !== bankId) {
    throw new ApiError("PAYER_NOT_CUSTOMER", `The signer has no account at bank ${bankId} in this currency.`);
  }
  if (account.frozen) throw new ApiError("PAYER_FROZEN", "The signer's account is frozen.");
}

/**
 * The payee must be a customer of `payeeBank` and not frozen.
 *
 * @example
 * checkPayee(await ledger.account(payment.payee, currency), payment.payeeBank);
 */
export function checkPayee(account: LedgerAccount, payeeBank: number): void {
  if (account.bankId !== payeeBank) {
    throw new ApiError(
      "PAYEE_NOT_CUSTOMER",
      `The payee has no account at bank ${payeeBank} in this currency.`,
    );
  }
  if (account.frozen) throw new ApiError("PAYEE_FROZEN", "The payee's account is frozen.");
}

/**
 * The nonce must be unused and inside the window `[base, base + 64)`, at most 2^47 - 1.
 *
 * @example
 * checkNonce(account, payment.nonce);
 */
export function checkNonce(account: LedgerAccount, nonce: bigint): void {
  if (nonce > MAX_NONCE) throw new ApiError("NONCE_OUT_OF_WINDOW", "The nonce is above 2^47 - 1.");
  if (nonce < account.nonceBase) throw new ApiError("NONCE_USED", `Nonce ${nonce} is already used.`);
  const offset = nonce - account.nonceBase;
  if (offset >= NONCE_WINDOW) {
    throw new ApiError(
      "NONCE_OUT_OF_WINDOW",
      `Nonce ${nonce} is 64 or more above the account's nonce base ${account.nonceBase}.`,
    );
  }
  if ((account.nonceBitmap >> offset) & 1n)
    throw new ApiError("NONCE_USED", `Nonce ${nonce} is already used.`);
}

/**
 * What a daily limit still allows today (UTC days, as the ledger counts them), at the block it was read at.
 *
 * @example
 * dailyRemaining(await ledger.customerLimit(payer, currency), Date.now());
 */
export function dailyRemaining(limit: LedgerCustomerLimit, nowMs: number): ChainFigure {
  const today = BigInt(Math.floor(nowMs / 86_400_000));
  const spent = limit.day === today ? limit.spentToday : 0n;
  return { value: limit.dailyLimit > spent ? limit.dailyLimit - spent : 0n, block: limit.block };
}

/**
 * An account's balance, at the block it was read at.
 *
 * @example
 * balanceOf(await ledger.account(payer, currency));
 */
export function balanceOf(account: LedgerAccount): ChainFigure {
  return { value: account.balance, block: account.block };
}
