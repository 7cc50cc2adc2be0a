import type { Address, Hex } from "viem";

import type { Payment } from "../../protocol/types.ts";
import { toWirePayment } from "../../protocol/wire.ts";
import { ApiError } from "../errors.ts";
import type { AdmissionLimits, NewRequest, RelayerStore, StoredRequest } from "../store/types.ts";
import {
  balanceOf,
  checkAmount,
  checkDeadline,
  checkNonce,
  checkPayee,
  checkSigner,
  dailyRemaining,
} from "./ledgerRules.ts";
import type { LedgerAccount, LedgerView } from "./ledgerView.ts";
import type { SignerRecovery } from "./signerRecovery.ts";
import type { TypedDataHasher } from "./typedDataHasher.ts";
import { verifySignature } from "./verifySignature.ts";

/** What validation needs: this relayer's bank, the ledger's view, hashing and recovery, the store. */
export interface ValidationContext {
  bankId: number;
  hasher: TypedDataHasher;
  recovery: SignerRecovery;
  ledger: LedgerView;
  store: RelayerStore;
  minDeadlineSeconds: number;
  now: () => number;
}

/**
 * A request ready for `store.admit` with the limits it is checked against (and a way to read them afresh if
 * the cached ones refuse it), or the stored request if this exact one was accepted before.
 */
export type Validated =
  | { request: NewRequest; limits: AdmissionLimits; freshLimits: () => Promise<AdmissionLimits> }
  | { existing: StoredRequest };

/** Refusals that rest on cached account state: before answering one, the account is read again. */
const ACCOUNT_CODES: readonly string[] = [
  "PAYER_NOT_CUSTOMER",
  "PAYER_FROZEN",
  "PAYEE_NOT_CUSTOMER",
  "PAYEE_FROZEN",
  "NONCE_USED",
  "NONCE_OUT_OF_WINDOW",
];

/**
 * Runs account rules on cached state (`check(false)`); a refusal that rests on it is confirmed with fresh reads
 * (`check(true)`) before it is answered.
 *
 * @example
 * const account = await confirmedFresh(async (fresh) => {
 *   const account = await ledger.account(payee, currency, fresh);
 *   checkSigner(account, bankId);
 *   return account;
 * });
 */
export function confirmedFresh<T>(check: (fresh: boolean) => Promise<T>): Promise<T> {
  return check(false).catch((error: unknown) => {
    if (error instanceof ApiError && ACCOUNT_CODES.includes(error.code)) return check(true);
    throw error;
  });
}

/** What the account rules look at in a payment, same-currency or cross-currency. */
export interface AccountTerms {
  payer: Address;
  payee: Address;
  payeeBank: number;
  payCurrency: number;
  receiveCurrency: number;
  amount: bigint;
  nonce: bigint;
}

/**
 * The account rules: payer a customer of this bank, payee a customer of its bank, amount within the bank's cap,
 * nonce unused. They run on the ledger view's cache; a refusal that rests on cached state is confirmed with fresh
 * reads before it is answered. Resolves with the payer's account.
 *
 * @throws {ApiError} with the code of the first rule that fails.
 */
export async function checkAccounts(
  ledger: LedgerView,
  bankId: number,
  terms: AccountTerms,
): Promise<LedgerAccount> {
  return confirmedFresh(async (fresh) => {
    const [payer, payee, maxPayment] = await Promise.all([
      ledger.account(terms.payer, terms.payCurrency, fresh),
      ledger.account(terms.payee, terms.receiveCurrency, fresh),
      ledger.maxPayment(bankId, terms.payCurrency),
    ]);
    checkSigner(payer, bankId);
    checkPayee(payee, terms.payeeBank);
    checkAmount(terms.amount, maxPayment);
    checkNonce(payer, terms.nonce);
    return payer;
  });
}

/**
 * Everything a payment must pass before it is stored: currency, deadline, signature (ECDSA or ERC-1271),
 * payee bank, payer a customer of this bank, payee a customer of its bank, amount within the bank's cap,
 * nonce unused; then the balance and daily limit for `store.admit` to check against what is already queued.
 * Accounts come from the ledger view's cache; a refusal based on them is confirmed with a fresh read first. A
 * payment already stored is recognised by its id (by `store.admit`, or here when a check fails because it has
 * since settled or expired).
 *
 * @throws {ApiError} with the code of the first check that fails.
 * @example
 * const validated = await validatePayment(context, { payment, signature }, "wallet-app");
 */
export async function validatePayment(
  context: ValidationContext,
  signed: { payment: Payment; signature: Hex },
  client?: string,
): Promise<Validated> {
  const { payment, signature } = signed;
  const { ledger } = context;
  const now = context.now();
  if (!(await ledger.currencyEnabled(payment.currency))) {
    throw new ApiError(
      "CURRENCY_NOT_SUPPORTED",
      `Currency ${payment.currency} is not enabled on the ledger.`,
    );
  }
  const { digest, id } = context.hasher.payment(payment);
  const { smartAccount } = await verifySignature(
    context.recovery,
    ledger,
    payment.payer,
    digest,
    id,
    signature,
  );
  let payer: LedgerAccount;
  try {
    checkDeadline(payment.deadline, now, context.minDeadlineSeconds);
    if (!(await ledger.bankActive(payment.payeeBank))) {
      throw new ApiError("UNKNOWN_BANK", `Bank ${payment.payeeBank} is not registered or not active.`);
    }
    payer = await checkAccounts(ledger, context.bankId, {
      ...payment,
      payCurrency: payment.currency,
      receiveCurrency: payment.currency,
    });
  } catch (error) {
    // A payment received before may since have settled (its nonce is used) or expired: answer its status.
    const existing = await context.store.getRequest(id);
    if (existing !== undefined) return { existing };
    throw error;
  }

  const limitsOf = async (account: LedgerAccount, fresh: boolean): Promise<AdmissionLimits> => {
    const limits: AdmissionLimits = { balance: balanceOf(account) };
    if (account.limited) {
      limits.dailyRemaining = dailyRemaining(
        await ledger.customerLimit(payment.payer, payment.currency, fresh),
        now,
      );
    }
    return limits;
  };
  const body = JSON.stringify({
    payment: toWirePayment(payment),
    signature,
    ...(smartAccount ? { smartAccount } : {}),
  });
  const request: NewRequest = {
    id,
    kind: "payment",
    signer: payment.payer.toLowerCase() as NewRequest["signer"],
    currency: payment.currency,
    nonce: payment.nonce,
    amount: payment.amount,
    deadline: payment.deadline,
    body,
    acceptedAt: now,
  };
  if (client !== undefined) request.client = client;
  return {
    request,
    limits: await limitsOf(payer, false),
    freshLimits: async () => limitsOf(await ledger.account(payment.payer, payment.currency, true), true),
  };
}
