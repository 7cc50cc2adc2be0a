import { concat, isHex, numberToHex, size, type Hex } from "viem";

import { QRSettleError } from "./errors.ts";
import type { SignedPayment } from "./types.ts";

/** Byte widths of a packed batch item; they bound the values a batch can carry. */
const ITEM_LAYOUT = { payeeIndex: 2, amount: 12, nonce: 6, deadline: 5 } as const;
const SIGNATURE_KIND = { compact: 0, erc1271: 1 } as const;
const MAX_PAYEES = 65_536;
const MAX_ERC1271_SIGNATURE_BYTES = 65_535;

/**
 * Gas the contracts give a smart account's `isValidSignature` (`SignatureLib.ERC1271_GAS`): a wallet whose
 * check needs more cannot pay, whatever it answers with more gas.
 */
export const ERC1271_GAS = 200_000n;

/** Arguments of `SettlementLedger.settlePayments`. */
export interface EncodedPaymentBatch {
  /** ISO 4217 numeric code shared by every payment. */
  currency: number;
  /** Packed payee table: payee (20 bytes) ‖ payee bank (uint16), once per distinct (payee, bank). */
  payees: Hex;
  /** Packed items in the order given. */
  items: Hex;
}

/**
 * Packs signed payments of one currency into `settlePayments` calldata: a table of distinct payees and one
 * item per payment, ECDSA signatures in EIP-2098 compact form. The ledger checks every item in this order.
 *
 * @throws {QRSettleError} `BATCH_EMPTY`, `BATCH_MIXED_CURRENCIES`, `BATCH_FIELD_OUT_OF_RANGE`,
 * `BATCH_BAD_SIGNATURE` or `BATCH_TOO_MANY_PAYEES`, with the payment's index.
 * @example
 * const { currency, payees, items } = encodePaymentBatch(signedPayments);
 * await ledger.write.settlePayments([currency, payees, items]);
 */
export function encodePaymentBatch(batch: readonly SignedPayment[]): EncodedPaymentBatch {
  const first = batch[0];
  if (first === undefined) throw new QRSettleError("BATCH_EMPTY", "A batch needs at least one payment.");
  const currency = first.payment.currency;
  const payeeIndex = new Map<string, number>();
  const payees: Hex[] = [];
  const items: Hex[] = [];

  batch.forEach(({ payment, signature, smartAccount }, index) => {
    if (payment.currency !== currency) {
      throw new QRSettleError("BATCH_MIXED_CURRENCIES", "All payments in a batch must share one currency.", {
        details: { index, expected: currency, got: payment.currency },
      });
    }
    const key = `${payment.payee.toLowerCase()}:${payment.payeeBank}`;
    let entry = payeeIndex.get(key);
    if (entry === undefined) {
      entry = payees.length;
      if (entry >= MAX_PAYEES) {
        throw new QRSettleError("BATCH_TOO_MANY_PAYEES", "A batch can pay at most 65,536 distinct payees.", {
          details: { index },
        });
      }
      payeeIndex.set(key, entry);
      payees.push(concat([payment.payee, uint(payment.payeeBank, 2, "payeeBank", index)]));
    }
    items.push(
      concat([
        payment.payer,
        uint(entry, ITEM_LAYOUT.payeeIndex, "payeeIndex", index),
        uint(payment.amount, ITEM_LAYOUT.amount, "amount", index),
        uint(payment.nonce, ITEM_LAYOUT.nonce, "nonce", index),
        uint(payment.deadline, ITEM_LAYOUT.deadline, "deadline", index),
        payment.qrHash,
        encodeSignature(signature, smartAccount === true, index),
      ]),
    );
  });
  return { currency, payees: concat(payees), items: concat(items) };
}

/** `value` as a big-endian unsigned integer of `bytes` bytes, or a typed error naming the field. */
function uint(value: bigint | number, bytes: number, field: string, index: number): Hex {
  const max = (1n << BigInt(bytes * 8)) - 1n;
  const big = BigInt(value);
  if (big < 0n || big > max) {
    throw new QRSettleError("BATCH_FIELD_OUT_OF_RANGE", `${field} does not fit the batch encoding.`, {
      details: { index, field, value: big, max },
    });
  }
  return numberToHex(big, { size: bytes });
}

/** Kind byte and signature: compact ECDSA for keys, length-prefixed bytes for ERC-1271 wallets. */
function encodeSignature(signature: Hex, smartAccount: boolean, index: number): Hex {
  if (!isHex(signature)) {
    throw new QRSettleError("BATCH_BAD_SIGNATURE", "Signature is not hex.", { details: { index } });
  }
  const length = size(signature);
  if (smartAccount) {
    if (length > MAX_ERC1271_SIGNATURE_BYTES) {
      throw new QRSettleError("BATCH_BAD_SIGNATURE", "ERC-1271 signature is too long for a batch.", {
        details: { index, bytes: length },
      });
    }
    return concat([
      numberToHex(SIGNATURE_KIND.erc1271, { size: 1 }),
      numberToHex(length, { size: 2 }),
      signature,
    ]);
  }
  return concat([numberToHex(SIGNATURE_KIND.compact, { size: 1 }), toCompactSignature(signature, index)]);
}

/**
 * An ECDSA signature in EIP-2098 compact form (r ‖ yParity·2^255 + s), from 65-byte r ‖ s ‖ v or 64-byte
 * compact input.
 *
 * @example
 * toCompactSignature(await wallet.signTypedData(...)); // 64 bytes
 */
export function toCompactSignature(signature: Hex, index = 0): Hex {
  const length = size(signature);
  if (length === 64) return signature;
  if (length !== 65) {
    throw new QRSettleError("BATCH_BAD_SIGNATURE", "An ECDSA signature has 65 or 64 (EIP-2098) bytes.", {
      details: { index, bytes: length },
    });
  }
  const r = `0x${signature.slice(2, 66)}` as const;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  const yParity = v === 27 || v === 0 ? 0n : v === 28 || v === 1 ? 1n : undefined;
  if (yParity === undefined) {
    throw new QRSettleError("BATCH_BAD_SIGNATURE", "ECDSA recovery id must be 27, 28, 0 or 1.", {
      details: { index, v },
    });
  }
  return concat([r, numberToHex((yParity << 255n) | s, { size: 32 })]);
}
