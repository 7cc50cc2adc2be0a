/**
 * The JSON wire format of signed payments and refunds, as wallets post them to a bank's relayer
 * (`POST /v1/payments`, `POST /v1/refunds`) and as auditors export them: the EIP-712 fields with every
 * integer as a decimal string (JSON numbers cannot hold uint256), addresses and hashes as 0x-hex.
 */
import { z } from "zod";
import type { Address, Hex } from "viem";

import type { Payment, Refund, SignedPayment } from "./types.ts";

const UINT256_MAX = (1n << 256n) - 1n;
/** Longest signature accepted on the wire: ERC-1271 wallets (e.g. multisigs) sign with more than 65 bytes. */
export const MAX_WIRE_SIGNATURE_BYTES = 4_096;

/** A 20-byte address, any letter case. */
export const wireAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: "must be a 0x-prefixed 20-byte hex address" })
  .transform((value) => value as Address);

/** A 32-byte hash. */
export const wireBytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, { error: "must be a 0x-prefixed 32-byte hex string" })
  .transform((value) => value.toLowerCase() as Hex);

/** An unsigned integer of at most 256 bits, as a decimal string without sign, leading zeros or decimals. */
export const wireUint256 = z
  .string({ error: "must be a decimal string" })
  .regex(/^(0|[1-9][0-9]{0,77})$/, { error: "must be an unsigned decimal integer string" })
  .transform((value) => BigInt(value))
  .refine((value) => value <= UINT256_MAX, { error: "must fit 256 bits" });

/** A uint16 (bank id, ISO 4217 code): a JSON integer or a decimal string. */
export const wireUint16 = z
  .union([z.number().int(), z.string().regex(/^(0|[1-9][0-9]{0,4})$/)], {
    error: "must be an integer from 0 to 65535",
  })
  .transform((value) => Number(value))
  .refine((value) => value >= 0 && value <= 0xffff, { error: "must be an integer from 0 to 65535" });

/** A signature: 65-byte or 64-byte (EIP-2098) ECDSA, or ERC-1271 bytes for a smart-account signer. */
export const wireSignature = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2})+$/, { error: "must be 0x-prefixed hex bytes" })
  .refine((value) => value.length <= 2 + 2 * MAX_WIRE_SIGNATURE_BYTES, {
    error: `must be at most ${MAX_WIRE_SIGNATURE_BYTES} bytes`,
  })
  .transform((value) => value.toLowerCase() as Hex);

/** The EIP-712 `Payment` on the wire. */
export const wirePaymentSchema = z.strictObject({
  payer: wireAddress.meta({ description: "The payer's address; it signs the payment." }),
  payee: wireAddress.meta({ description: "The merchant's address, from the QR code." }),
  payeeBank: wireUint16.meta({ description: "The merchant's bank id, from the QR code." }),
  currency: wireUint16.meta({ description: "ISO 4217 numeric currency code, e.g. 156 (CNY)." }),
  amount: wireUint256.meta({ description: 'Amount in minor units, decimal string, e.g. "9873" for 98.73.' }),
  qrHash: wireBytes32.meta({ description: "keccak256 of the exact QR payload scanned." }),
  nonce: wireUint256.meta({ description: "The payer's nonce in this currency, decimal string." }),
  deadline: wireUint256.meta({ description: "Unix seconds after which it may not settle, decimal string." }),
});

/** A signed payment on the wire: `{ "payment": {...}, "signature": "0x…" }`. */
export const wireSignedPaymentSchema = z.strictObject({
  payment: wirePaymentSchema,
  signature: wireSignature.meta({
    description:
      "The payer's EIP-712 signature: 65 or 64 (EIP-2098) bytes, or ERC-1271 bytes for a smart account.",
  }),
});

/** The EIP-712 `Refund` on the wire. */
export const wireRefundSchema = z.strictObject({
  paymentId: wireBytes32.meta({ description: "Id (EIP-712 digest) of the payment refunded." }),
  amount: wireUint256.meta({ description: "Amount returned to the payer, minor units, decimal string." }),
  nonce: wireUint256.meta({ description: "The payee's nonce in the payment's currency, decimal string." }),
  deadline: wireUint256.meta({ description: "Unix seconds after which it may not settle, decimal string." }),
});

/**
 * A signed refund on the wire: the payee's `Refund`, its signature and the original payment exactly as the
 * payer signed it (the ledger recomputes the payment id from it).
 */
export const wireSignedRefundSchema = z.strictObject({
  refund: wireRefundSchema,
  payment: wirePaymentSchema,
  signature: wireSignature.meta({ description: "The payee's EIP-712 signature of the refund." }),
});

/** A payment in wire form: every integer a decimal string. */
export type WirePayment = z.input<typeof wirePaymentSchema>;
/** A refund in wire form. */
export type WireRefund = z.input<typeof wireRefundSchema>;
/** A signed payment in wire form. */
export type WireSignedPayment = z.input<typeof wireSignedPaymentSchema>;
/** A signed refund in wire form. */
export type WireSignedRefund = z.input<typeof wireSignedRefundSchema>;

/**
 * A payment in wire form, for posting to a relayer.
 *
 * @example
 * await fetch(`${relayer}/v1/payments`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
 *   body: JSON.stringify({ payment: toWirePayment(payment), signature }),
 * });
 */
export function toWirePayment(payment: Payment): WirePayment {
  return {
    payer: payment.payer,
    payee: payment.payee,
    payeeBank: payment.payeeBank,
    currency: payment.currency,
    amount: payment.amount.toString(),
    qrHash: payment.qrHash,
    nonce: payment.nonce.toString(),
    deadline: payment.deadline.toString(),
  };
}

/**
 * A payment from its wire form (already validated by {@link wirePaymentSchema}, or from a trusted store).
 *
 * @example
 * const payment = fromWirePayment(stored.payment);
 */
export function fromWirePayment(wire: WirePayment): Payment {
  return {
    payer: wire.payer as Address,
    payee: wire.payee as Address,
    payeeBank: Number(wire.payeeBank),
    currency: Number(wire.currency),
    amount: BigInt(wire.amount),
    qrHash: wire.qrHash as Hex,
    nonce: BigInt(wire.nonce),
    deadline: BigInt(wire.deadline),
  };
}

/**
 * A signed payment in wire form.
 *
 * @example
 * const body = JSON.stringify(toWireSignedPayment({ payment, signature }));
 */
export function toWireSignedPayment(signed: SignedPayment): WireSignedPayment {
  return { payment: toWirePayment(signed.payment), signature: signed.signature };
}

/**
 * A refund in wire form.
 *
 * @example
 * const body = JSON.stringify({ refund: toWireRefund(refund), payment: toWirePayment(payment), signature });
 */
export function toWireRefund(refund: Refund): WireRefund {
  return {
    paymentId: refund.paymentId,
    amount: refund.amount.toString(),
    nonce: refund.nonce.toString(),
    deadline: refund.deadline.toString(),
  };
}
