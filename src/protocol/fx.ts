import { hashStruct, hashTypedData, type Address, type Hex } from "viem";

import { getCurrencyByNumeric } from "./currencies.ts";
import { QRSettleError } from "./errors.ts";
import { paymentFromRequest, type PaymentRequest } from "./paymentFromRequest.ts";

/** Scale of an FX quote's rate: minor units of the target currency per minor unit of the source, times 1e18. */
export const RATE_SCALE = 10n ** 18n;

/** EIP-712 types of cross-currency payments; equal to the type strings in `contracts/FxSettlement.sol`. */
export const fxTypes = {
  FxQuote: [
    { name: "provider", type: "uint16" },
    { name: "fromCurrency", type: "uint16" },
    { name: "toCurrency", type: "uint16" },
    { name: "rate", type: "uint256" },
    { name: "maxToAmount", type: "uint256" },
    { name: "validFrom", type: "uint256" },
    { name: "expiry", type: "uint256" },
    { name: "quoteId", type: "bytes32" },
  ],
  FxPayment: [
    { name: "payer", type: "address" },
    { name: "payee", type: "address" },
    { name: "payeeBank", type: "uint16" },
    { name: "payCurrency", type: "uint16" },
    { name: "payAmount", type: "uint256" },
    { name: "receiveCurrency", type: "uint16" },
    { name: "receiveAmount", type: "uint256" },
    { name: "quoteHash", type: "bytes32" },
    { name: "qrHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** An FX provider's quote; see `FxQuote` in `contracts/interfaces/IFxSettlement.sol`. */
export interface FxQuote {
  /** Bank id of the provider, which holds reserves in both currencies. */
  provider: number;
  fromCurrency: number;
  toCurrency: number;
  /** Minor units of `toCurrency` per minor unit of `fromCurrency`, times {@link RATE_SCALE}. */
  rate: bigint;
  /** Most `toCurrency` the quote may deliver over all payments. */
  maxToAmount: bigint;
  validFrom: bigint;
  expiry: bigint;
  quoteId: Hex;
}

/** A cross-currency payment as the payer signs it. */
export interface FxPayment {
  payer: Address;
  payee: Address;
  payeeBank: number;
  payCurrency: number;
  payAmount: bigint;
  receiveCurrency: number;
  receiveAmount: bigint;
  /** {@link quoteStructHash} of the quote the payment uses. */
  quoteHash: Hex;
  qrHash: Hex;
  nonce: bigint;
  deadline: bigint;
}

/** The EIP-712 domain of one `FxSettlement` deployment. */
export interface FxDomain {
  name: "QRSettle FX";
  version: "1";
  chainId: bigint;
  verifyingContract: Address;
}

/**
 * The domain providers sign quotes and payers sign cross-currency payments under.
 *
 * @example
 * const domain = fxDomain(31337n, deployment.fx);
 */
export function fxDomain(chainId: bigint | number, fxSettlement: Address): FxDomain {
  return { name: "QRSettle FX", version: "1", chainId: BigInt(chainId), verifyingContract: fxSettlement };
}

/**
 * The EIP-712 struct hash of a quote: what a payment's `quoteHash` binds.
 *
 * @example
 * const payment = { ...terms, quoteHash: quoteStructHash(quote) };
 */
export function quoteStructHash(quote: FxQuote): Hex {
  return hashStruct({ data: quote, primaryType: "FxQuote", types: fxTypes });
}

/**
 * A cross-currency payment's id: its EIP-712 digest, exactly as `FxSettlement.hashFxPayment`.
 *
 * @example
 * const id = fxPaymentId(fxDomain(chainId, fx), payment);
 */
export function fxPaymentId(domain: FxDomain, payment: FxPayment): Hex {
  return hashTypedData({ domain, types: fxTypes, primaryType: "FxPayment", message: payment });
}

/**
 * What a payer pays, in minor units of the quote's source currency, for `receiveAmount` minor units of its
 * target: rounded up, as the contract computes it, so rounding never gives away value the provider did not
 * quote.
 *
 * @example
 * payAmountFor(108_50n, 1_085_000_000_000_000_000n); // 100_00n (CNY 100.00 for HKD 108.50)
 */
export function payAmountFor(receiveAmount: bigint, rate: bigint): bigint {
  if (rate <= 0n)
    throw new QRSettleError("FX_RATE_INVALID", "An FX rate must be positive.", { details: { rate } });
  return (receiveAmount * RATE_SCALE + rate - 1n) / rate;
}

/**
 * A quote's integer rate from a decimal rate between the currencies' major units ("1 CNY = 1.0850 HKD"),
 * folding in the difference of their ISO 4217 exponents; exact, no floating point.
 *
 * @throws {QRSettleError} `FX_RATE_INVALID` for a malformed or non-positive rate, `FX_CURRENCY_UNKNOWN`, or
 * `FX_RATE_TOO_PRECISE` when the rate has more digits than the 1e18 scale can hold.
 * @example
 * rateFromDecimal("1.0850", 156, 344); // 1_085_000_000_000_000_000n
 * rateFromDecimal("0.0067", 392, 840); // 670_000_000_000_000_000n (JPY exponent 0, USD 2)
 */
export function rateFromDecimal(rate: string, fromCurrency: number, toCurrency: number): bigint {
  const from = getCurrencyByNumeric(fromCurrency);
  const to = getCurrencyByNumeric(toCurrency);
  if (from === undefined || to === undefined) {
    throw new QRSettleError("FX_CURRENCY_UNKNOWN", "Unknown ISO 4217 currency.", {
      details: { fromCurrency, toCurrency },
    });
  }
  const match = /^(\d+)(?:\.(\d+))?$/.exec(rate);
  if (match === null) {
    throw new QRSettleError("FX_RATE_INVALID", 'A rate is a positive decimal such as "1.0850".', {
      details: { rate },
    });
  }
  const fraction = match[2] ?? "";
  // rate × 10^(to.exponent − from.exponent) × 10^18, as digits ÷ 10^fraction.length
  const shift = 18 + to.exponent - from.exponent - fraction.length;
  if (shift < 0) {
    throw new QRSettleError("FX_RATE_TOO_PRECISE", "The rate has more decimals than the 1e18 scale holds.", {
      details: { rate },
    });
  }
  const scaled = BigInt(`${match[1] ?? ""}${fraction}`) * 10n ** BigInt(shift);
  if (scaled === 0n)
    throw new QRSettleError("FX_RATE_INVALID", "An FX rate must be positive.", { details: { rate } });
  return scaled;
}

/** What a payer adds to a merchant's request to pay it from another currency. */
export interface FxPaymentFromRequestParameters {
  /** The merchant's decoded request; its currency is the one the merchant receives. */
  request: PaymentRequest;
  /** The exact payload scanned. */
  payload: string;
  payer: Address;
  /** The quote the payer accepts: from the payer's currency to the request's. */
  quote: FxQuote;
  nonce: bigint;
  deadline: bigint;
  /** The decimal amount, in the merchant's currency, the payer typed for a static code. */
  amount?: string;
}

/**
 * The cross-currency payment a payer signs for a merchant's request at a provider's quote: the merchant receives
 * the request's amount in its currency; the payer pays it divided by the rate, rounded up, in the quote's source
 * currency. Both amounts are what a wallet shows before signing. The deadline is kept within the code's expiry
 * and the quote's.
 *
 * @throws {QRSettleError} `FX_QUOTE_MISMATCH` when the quote does not convert into the request's currency,
 * plus the errors of {@link paymentFromRequest}.
 * @example
 * const { payment, domain } = fxPaymentFromRequest({ request, payload, payer, quote, nonce: 0n, deadline }, deployment.fx);
 * console.log(`pay CNY ${formatAmount(payment.payAmount, 2)} for HKD ${formatAmount(payment.receiveAmount, 2)}`);
 */
export function fxPaymentFromRequest(
  parameters: FxPaymentFromRequestParameters,
  fxSettlement: Address,
): { payment: FxPayment; domain: FxDomain } {
  const { request, quote } = parameters;
  if (quote.toCurrency !== request.currency) {
    throw new QRSettleError("FX_QUOTE_MISMATCH", "The quote does not convert into the merchant's currency.", {
      details: { "quote to": quote.toCurrency, "merchant currency": request.currency },
    });
  }
  const single = paymentFromRequest({
    request,
    payload: parameters.payload,
    payer: parameters.payer,
    nonce: parameters.nonce,
    deadline: parameters.deadline < quote.expiry ? parameters.deadline : quote.expiry,
    ...(parameters.amount === undefined ? {} : { amount: parameters.amount }),
  }).payment;
  return {
    payment: {
      payer: single.payer,
      payee: single.payee,
      payeeBank: single.payeeBank,
      payCurrency: quote.fromCurrency,
      payAmount: payAmountFor(single.amount, quote.rate),
      receiveCurrency: single.currency,
      receiveAmount: single.amount,
      quoteHash: quoteStructHash(quote),
      qrHash: single.qrHash,
      nonce: single.nonce,
      deadline: single.deadline,
    },
    domain: fxDomain(request.chainId, fxSettlement),
  };
}
