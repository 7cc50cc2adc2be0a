import { keccak256, stringToBytes, type Address, type Hex } from "viem";

import { parseAmount } from "./amounts.ts";
import { getCurrencyByNumeric } from "./currencies.ts";
import { ledgerDomain, type LedgerDomain } from "./eip712.ts";
import { QRSettleError } from "./errors.ts";
import type { Payment } from "./types.ts";

/**
 * What a merchant's payment request says: the fields of QRSettle's QR templates (`decodeQrSettleRequest` in
 * `src/qr` returns one) or of an EIP-681 URI.
 */
export interface PaymentRequest {
  chainId: bigint;
  ledger: Address;
  payeeBank: number;
  payee: Address;
  /** ISO 4217 numeric code. */
  currency: number;
  /** Decimal amount of a dynamic code; absent on a static code, where the payer types it. */
  amount?: string;
  /** Last second at which the code may be paid. */
  expiry?: bigint;
}

/** What the payer adds to a request to make a payment. */
export interface PaymentFromRequestParameters {
  request: PaymentRequest;
  /** The exact payload that was scanned; its keccak256 is the payment's `qrHash`. */
  payload: string;
  payer: Address;
  nonce: bigint;
  /** Unix seconds after which the payment may not settle; capped at the request's expiry. */
  deadline: bigint;
  /** The decimal amount the payer typed; required for a static code, refused for a dynamic one. */
  amount?: string;
}

/** A payment ready to sign, and the EIP-712 domain to sign it under (both taken from the request). */
export interface PaymentFromRequestReturnType {
  payment: Payment;
  domain: LedgerDomain;
}

/**
 * keccak256 of a QR payload's UTF-8 bytes: the `qrHash` a payment binds, so the payer's signature covers
 * exactly what was scanned.
 *
 * @example
 * qrPayloadHash("00020101021226...6304ABCD");
 */
export function qrPayloadHash(payload: string): Hex {
  return keccak256(stringToBytes(payload));
}

/**
 * Builds the EIP-712 `Payment` a payer signs for a decoded payment request, converting the decimal amount into
 * minor units by the currency's ISO 4217 exponent (no floating point), binding the exact payload, and keeping
 * the deadline within the code's expiry. The returned domain comes from the request, so the signature is bound
 * to the chain and ledger the merchant named.
 *
 * @throws {QRSettleError} `PAYMENT_AMOUNT_REQUIRED` (static code, no amount typed), `PAYMENT_AMOUNT_FIXED`
 * (dynamic code, amount typed), `PAYMENT_CURRENCY_UNKNOWN`, or an `AmountError` for a malformed amount.
 * @example
 * const request = decodeQrSettleRequest(payload);
 * const { payment, domain } = paymentFromRequest({ request, payload, payer, nonce: 0n, deadline });
 * const signature = await account.signTypedData({ domain, types: ledgerTypes, primaryType: "Payment", message: payment });
 */
export function paymentFromRequest(parameters: PaymentFromRequestParameters): PaymentFromRequestReturnType {
  const { request, payload, payer, nonce } = parameters;
  const currency = getCurrencyByNumeric(request.currency);
  if (currency === undefined) {
    throw new QRSettleError(
      "PAYMENT_CURRENCY_UNKNOWN",
      "The request's currency is not an ISO 4217 currency.",
      {
        details: { currency: request.currency },
      },
    );
  }
  if (request.amount !== undefined && parameters.amount !== undefined) {
    throw new QRSettleError(
      "PAYMENT_AMOUNT_FIXED",
      "This code fixes the amount; the payer cannot type one.",
      {
        details: { "Code amount": request.amount, "Typed amount": parameters.amount },
      },
    );
  }
  const decimal = request.amount ?? parameters.amount;
  if (decimal === undefined) {
    throw new QRSettleError(
      "PAYMENT_AMOUNT_REQUIRED",
      "This static code has no amount; the payer must type one.",
    );
  }
  const deadline =
    request.expiry !== undefined && parameters.deadline > request.expiry
      ? request.expiry
      : parameters.deadline;
  return {
    payment: {
      payer,
      payee: request.payee,
      payeeBank: request.payeeBank,
      currency: request.currency,
      amount: parseAmount(decimal, currency.exponent),
      qrHash: qrPayloadHash(payload),
      nonce,
      deadline,
    },
    domain: ledgerDomain(request.chainId, request.ledger),
  };
}
