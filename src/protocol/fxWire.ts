/**
 * The JSON wire format of FX quotes and cross-currency payments, as relayers serve quotes
 * (`GET /v1/quotes`) and wallets post payments (`POST /v1/fx-payments`): the EIP-712 fields of `FxQuote` and
 * `FxPayment` with every integer a decimal string, as in `wire.ts`.
 */
import { z } from "zod";
import type { Address, Hex } from "viem";

import type { FxPayment, FxQuote } from "./fx.ts";
import { wireAddress, wireBytes32, wireSignature, wireUint16, wireUint256 } from "./wire.ts";

/** The EIP-712 `FxQuote` on the wire. */
export const wireFxQuoteSchema = z.strictObject({
  provider: wireUint16.meta({ description: "Bank id of the FX provider, which signed the quote." }),
  fromCurrency: wireUint16.meta({ description: "ISO 4217 numeric code the payer pays in." }),
  toCurrency: wireUint16.meta({ description: "ISO 4217 numeric code the merchant is paid in." }),
  rate: wireUint256.meta({
    description: "Minor units of `toCurrency` per minor unit of `fromCurrency`, times 10^18, decimal string.",
  }),
  maxToAmount: wireUint256.meta({ description: "Most `toCurrency` the quote delivers over all payments." }),
  validFrom: wireUint256.meta({ description: "Unix seconds from which the quote may be used." }),
  expiry: wireUint256.meta({ description: "Unix seconds after which it may not be used." }),
  quoteId: wireBytes32.meta({ description: "The provider's id of the quote." }),
});

/** The EIP-712 `FxPayment` on the wire. */
export const wireFxPaymentSchema = z.strictObject({
  payer: wireAddress.meta({ description: "The payer's address; it signs the payment." }),
  payee: wireAddress.meta({ description: "The merchant's address, from the QR code." }),
  payeeBank: wireUint16.meta({ description: "The merchant's bank id, from the QR code." }),
  payCurrency: wireUint16.meta({ description: "Currency the payer pays in: the quote's `fromCurrency`." }),
  payAmount: wireUint256.meta({
    description: "Minor units the payer pays: `ceil(receiveAmount × 10^18 / rate)`, decimal string.",
  }),
  receiveCurrency: wireUint16.meta({
    description: "Currency the merchant receives: the quote's `toCurrency`.",
  }),
  receiveAmount: wireUint256.meta({ description: "Minor units the merchant receives, decimal string." }),
  quoteHash: wireBytes32.meta({ description: "EIP-712 struct hash of the quote used." }),
  qrHash: wireBytes32.meta({ description: "keccak256 of the exact QR payload scanned." }),
  nonce: wireUint256.meta({ description: "The payer's nonce in `payCurrency`, decimal string." }),
  deadline: wireUint256.meta({ description: "Unix seconds after which it may not settle, decimal string." }),
});

/** A signed quote on the wire: `{ "quote": {...}, "quoteSignature": "0x…" }`. */
export const wireSignedFxQuoteSchema = z.strictObject({
  quote: wireFxQuoteSchema,
  quoteSignature: wireSignature.meta({
    description: "EIP-712 signature of the quote by a relayer key of the provider bank.",
  }),
});

/** A signed cross-currency payment with the signed quote it uses. */
export const wireSignedFxPaymentSchema = z.strictObject({
  quote: wireFxQuoteSchema,
  quoteSignature: wireSignature.meta({
    description: "EIP-712 signature of the quote by a relayer key of the provider bank.",
  }),
  payment: wireFxPaymentSchema,
  signature: wireSignature.meta({ description: "The payer's EIP-712 signature of the `FxPayment`." }),
});

/** A quote in wire form. */
export type WireFxQuote = z.input<typeof wireFxQuoteSchema>;
/** A cross-currency payment in wire form. */
export type WireFxPayment = z.input<typeof wireFxPaymentSchema>;
/** A signed cross-currency payment with its quote, in wire form: the body of `POST /v1/fx-payments`. */
export type WireSignedFxPayment = z.input<typeof wireSignedFxPaymentSchema>;

/**
 * A quote in wire form.
 *
 * @example
 * const body = JSON.stringify({ quote: toWireFxQuote(quote), quoteSignature });
 */
export function toWireFxQuote(quote: FxQuote): WireFxQuote {
  return {
    provider: quote.provider,
    fromCurrency: quote.fromCurrency,
    toCurrency: quote.toCurrency,
    rate: quote.rate.toString(),
    maxToAmount: quote.maxToAmount.toString(),
    validFrom: quote.validFrom.toString(),
    expiry: quote.expiry.toString(),
    quoteId: quote.quoteId,
  };
}

/**
 * A quote from its wire form (already validated by {@link wireFxQuoteSchema}, or from a trusted source).
 *
 * @example
 * const quote = fromWireFxQuote(answer.quotes[0].quote);
 */
export function fromWireFxQuote(wire: WireFxQuote): FxQuote {
  return {
    provider: Number(wire.provider),
    fromCurrency: Number(wire.fromCurrency),
    toCurrency: Number(wire.toCurrency),
    rate: BigInt(wire.rate),
    maxToAmount: BigInt(wire.maxToAmount),
    validFrom: BigInt(wire.validFrom),
    expiry: BigInt(wire.expiry),
    quoteId: wire.quoteId as Hex,
  };
}

/**
 * A cross-currency payment from its wire form (already validated by {@link wireFxPaymentSchema}, or from a
 * trusted store).
 *
 * @example
 * const payment = fromWireFxPayment(stored.payment);
 */
export function fromWireFxPayment(wire: WireFxPayment): FxPayment {
  return {
    payer: wire.payer as Address,
    payee: wire.payee as Address,
    payeeBank: Number(wire.payeeBank),
    payCurrency: Number(wire.payCurrency),
    payAmount: BigInt(wire.payAmount),
    receiveCurrency: Number(wire.receiveCurrency),
    receiveAmount: BigInt(wire.receiveAmount),
    quoteHash: wire.quoteHash as Hex,
    qrHash: wire.qrHash as Hex,
    nonce: BigInt(wire.nonce),
    deadline: BigInt(wire.deadline),
  };
}

/**
 * A cross-currency payment in wire form.
 *
 * @example
 * const body = { quote: toWireFxQuote(quote), quoteSignature, payment: toWireFxPayment(payment), signature };
 */
export function toWireFxPayment(payment: FxPayment): WireFxPayment {
  return {
    payer: payment.payer,
    payee: payment.payee,
    payeeBank: payment.payeeBank,
    payCurrency: payment.payCurrency,
    payAmount: payment.payAmount.toString(),
    receiveCurrency: payment.receiveCurrency,
    receiveAmount: payment.receiveAmount.toString(),
    quoteHash: payment.quoteHash,
    qrHash: payment.qrHash,
    nonce: payment.nonce.toString(),
    deadline: payment.deadline.toString(),
  };
}
