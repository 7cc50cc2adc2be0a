import type { Address, Hex, PublicClient } from "viem";

import { payAmountFor, type FxPayment, type FxQuote } from "../../protocol/fx.ts";
import { toWireFxPayment, toWireFxQuote } from "../../protocol/fxWire.ts";
import { fxSettlementAbi } from "../../protocol/generated/abi.ts";
import { ApiError } from "../errors.ts";
import type { AdmissionLimits, ChainFigure, NewRequest } from "../store/types.ts";
import { balanceOf, checkAmount, checkDeadline, dailyRemaining } from "./ledgerRules.ts";
import type { LedgerAccount } from "./ledgerView.ts";
import { checkAccounts, type Validated, type ValidationContext } from "./validatePayment.ts";
import type { FxTypedDataHasher } from "./typedDataHasher.ts";
import { verifySignature } from "./verifySignature.ts";

/** What cross-currency validation needs beyond a payment's: the FX contract and its domain's hasher. */
export interface FxValidationContext extends ValidationContext {
  client: PublicClient;
  fx: Address;
  fxHasher: FxTypedDataHasher;
  /** Whether a relayer key of the quote's provider bank signed it (`isQuoteSigned`). */
  isQuoteSigned: (quote: FxQuote, quoteSignature: Hex) => Promise<boolean>;
}

/** A signed cross-currency payment with the signed quote it uses. */
export interface SignedFxPayment {
  quote: FxQuote;
  quoteSignature: Hex;
  payment: FxPayment;
  signature: Hex;
}

/**
 * Everything a cross-currency payment must pass before it is stored, as `FxSettlement` and the ledger will
 * check it: the payment binds this quote (hash, currencies, and the pay amount the quote's rate gives by the
 * contract's rounding), the quote is signed by a relayer key of its provider bank and valid now, the payer signed
 * the payment and is a customer of this bank in the pay currency, the payee is a customer of its bank in the
 * receive currency, amounts and nonce are good; then the payer's balance and daily limit and what the quote
 * still allows, for `store.admit` to check against what is queued.
 *
 * @throws {ApiError} with the code of the first check that fails.
 * @example
 * const validated = await validateFxPayment(context, { quote, quoteSignature, payment, signature }, "wallet");
 */
export async function validateFxPayment(
  context: FxValidationContext,
  signed: SignedFxPayment,
  client?: string,
): Promise<Validated> {
  const { quote, quoteSignature, payment, signature } = signed;
  const { ledger } = context;
  const now = context.now();
  const nowSeconds = BigInt(Math.floor(now / 1000));
  const { digest, id } = context.fxHasher.payment(payment);
  const quoteHash = context.fxHasher.quote(quote);
  let smartAccount: boolean;
  try {
    if (payment.quoteHash.toLowerCase() !== quoteHash.toLowerCase()) {
      throw new ApiError(
        "QUOTE_MISMATCH",
        "The payment's quoteHash is not the hash of the quote sent with it.",
      );
    }
    if (
      quote.fromCurrency !== payment.payCurrency ||
      quote.toCurrency !== payment.receiveCurrency ||
      quote.rate === 0n ||
      payment.payAmount !== payAmountFor(payment.receiveAmount, quote.rate)
    ) {
      throw new ApiError(
        "QUOTE_MISMATCH",
        "The payment's currencies or pay amount are not the quote's (payAmount = ceil(receiveAmount × 10^18 / rate)).",
      );
    }
    for (const currency of [payment.payCurrency, payment.receiveCurrency]) {
      if (!(await ledger.currencyEnabled(currency))) {
        throw new ApiError("CURRENCY_NOT_SUPPORTED", `Currency ${currency} is not enabled on the ledger.`);
      }
    }
    if (!(await context.isQuoteSigned(quote, quoteSignature))) {
      throw new ApiError(
        "QUOTE_INVALID",
        `The quote is not signed by a relayer key of bank ${quote.provider}, or its rate is zero.`,
      );
    }
    if (nowSeconds < quote.validFrom || nowSeconds > quote.expiry) {
      throw new ApiError("QUOTE_EXPIRED", `The quote is valid from ${quote.validFrom} to ${quote.expiry}.`);
    }
    ({ smartAccount } = await verifySignature(
      context.recovery,
      ledger,
      payment.payer,
      digest,
      id,
      signature,
    ));
    checkDeadline(payment.deadline, now, context.minDeadlineSeconds);
    if (payment.receiveAmount > quote.maxToAmount) {
      throw new ApiError("QUOTE_EXHAUSTED", `The quote delivers at most ${quote.maxToAmount}.`);
    }
    checkAmount(payment.receiveAmount, 0n);
    if (!(await ledger.bankActive(payment.payeeBank))) {
      throw new ApiError("UNKNOWN_BANK", `Bank ${payment.payeeBank} is not registered or not active.`);
    }
  } catch (error) {
    const existing = await context.store.getRequest(id);
    if (existing !== undefined) return { existing };
    throw error;
  }
  let payer: LedgerAccount;
  try {
    payer = await checkAccounts(ledger, context.bankId, { ...payment, amount: payment.payAmount });
  } catch (error) {
    const existing = await context.store.getRequest(id);
    if (existing !== undefined) return { existing };
    throw error;
  }
  const quoteRemaining = async (fresh: boolean): Promise<ChainFigure> => {
    const { value: used, block } = await ledger.readAt(fresh, (blockNumber) =>
      context.client.readContract({
        address: context.fx,
        abi: fxSettlementAbi,
        functionName: "quoteUsed",
        args: [quoteHash],
        blockNumber,
      }),
    );
    return { value: quote.maxToAmount - used, block };
  };
  const limitsOf = async (account: LedgerAccount, fresh: boolean): Promise<AdmissionLimits> => {
    const limits: AdmissionLimits = {
      balance: balanceOf(account),
      quoteRemaining: await quoteRemaining(fresh),
    };
    if (account.limited) {
      limits.dailyRemaining = dailyRemaining(
        await ledger.customerLimit(payment.payer, payment.payCurrency, fresh),
        now,
      );
    }
    return limits;
  };
  const request: NewRequest = {
    id,
    kind: "fx",
    signer: payment.payer.toLowerCase() as NewRequest["signer"],
    currency: payment.payCurrency,
    nonce: payment.nonce,
    amount: payment.payAmount,
    deadline: payment.deadline,
    paymentId: quoteHash,
    quoteAmount: payment.receiveAmount,
    body: JSON.stringify({
      quote: toWireFxQuote(quote),
      quoteSignature,
      payment: toWireFxPayment(payment),
      signature,
      // As for same-currency payments: a smart account's check has no fixed gas, so its batch is estimated.
      ...(smartAccount ? { smartAccount } : {}),
    }),
    acceptedAt: now,
  };
  if (client !== undefined) request.client = client;
  return {
    request,
    limits: await limitsOf(payer, false),
    freshLimits: async () => limitsOf(await ledger.account(payment.payer, payment.payCurrency, true), true),
  };
}
