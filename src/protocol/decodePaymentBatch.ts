import type { Address, Hex } from "viem";

import type { EncodedPaymentBatch } from "./batch.ts";
import { QRSettleError } from "./errors.ts";
import type { Payment, SignedPayment } from "./types.ts";

/** Byte sizes of the packed layout `encodePaymentBatch` writes and `BatchCodecLib` reads. */
const PAYEE_ENTRY_BYTES = 22;
const ITEM_HEAD_BYTES = 78;
const COMPACT_SIGNATURE_BYTES = 64;
const SIGNATURE_KIND_COMPACT = 0;
const SIGNATURE_KIND_ERC1271 = 1;
/** Limits the ledger enforces on the payee table: 16-bit indexes, and one 256-bit mask of payee banks. */
const MAX_PAYEES = 65_536;
const MAX_PAYEE_BANKS = 256;

/**
 * Which part of the batch `BATCH_MALFORMED` refers to, numbered as the contract's `MalformedBatch`.
 *
 * @example
 * decodeRevert(data)?.args[0] === BATCH_PART.items; // the contract refused an item
 */
export const BATCH_PART = { payees: 0, items: 1 } as const;

/**
 * Unpacks `settlePayments` arguments back into the signed payments they carry, in item order: the exact
 * inverse of {@link encodePaymentBatch}. Compact (kind 0) signatures come back as their 64 bytes; ERC-1271
 * (kind 1) signatures as their bytes with `smartAccount: true`. Addresses come back in lowercase hex; case
 * carries no information in an address. It accepts exactly what `SettlementLedger` accepts and refuses
 * what the ledger would revert on with `MalformedBatch`.
 *
 * @throws {QRSettleError} `BATCH_MALFORMED` with the part (0 payees, 1 items) and byte offset, as the
 * contract's `MalformedBatch(part, offset)`, or `BATCH_EMPTY` for no items.
 * @example
 * const { args } = decodeFunctionData({ abi: settlementLedgerAbi, data: tx.input });
 * const payments = decodePaymentBatch({ currency: args[0], payees: args[1], items: args[2] });
 */
export function decodePaymentBatch(batch: EncodedPaymentBatch): SignedPayment[] {
  const payees = decodePayeeTable(batch.payees);
  const items = hexDigits(batch.items, BATCH_PART.items);
  if (items.length === 0) throw new QRSettleError("BATCH_EMPTY", "A batch needs at least one payment.");
  const payments: SignedPayment[] = [];
  // Offsets count hex digits, two per byte; errors report bytes like the contract does.
  for (let at = 0; at < items.length;) {
    const malformed = (): QRSettleError => malformedError(BATCH_PART.items, at / 2);
    if (items.length - at < ITEM_HEAD_BYTES * 2) throw malformed();
    const payee = payees[Number.parseInt(items.slice(at + 40, at + 44), 16)];
    const kind = Number.parseInt(items.slice(at + 154, at + 156), 16);
    if (payee === undefined || kind > SIGNATURE_KIND_ERC1271) throw malformed();
    const payment: Payment = {
      payer: `0x${items.slice(at, at + 40)}`,
      payee: payee.payee,
      payeeBank: payee.payeeBank,
      currency: batch.currency,
      amount: BigInt(`0x${items.slice(at + 44, at + 68)}`),
      qrHash: `0x${items.slice(at + 90, at + 154)}`,
      nonce: BigInt(`0x${items.slice(at + 68, at + 80)}`),
      deadline: BigInt(`0x${items.slice(at + 80, at + 90)}`),
    };
    const signatureAt = at + ITEM_HEAD_BYTES * 2;
    if (kind === SIGNATURE_KIND_COMPACT) {
      const end = signatureAt + COMPACT_SIGNATURE_BYTES * 2;
      if (end > items.length) throw malformed();
      payments.push({ payment, signature: `0x${items.slice(signatureAt, end)}` });
      at = end;
    } else {
      if (items.length - signatureAt < 4) throw malformed();
      const length = Number.parseInt(items.slice(signatureAt, signatureAt + 4), 16);
      const end = signatureAt + 4 + length * 2;
      if (end > items.length) throw malformed();
      payments.push({ payment, signature: `0x${items.slice(signatureAt + 4, end)}`, smartAccount: true });
      at = end;
    }
  }
  return payments;
}

/** The payee table's entries in order, or `BATCH_MALFORMED` for a table the ledger would refuse. */
function decodePayeeTable(payees: Hex): { payee: Address; payeeBank: number }[] {
  const digits = hexDigits(payees, BATCH_PART.payees);
  const entryDigits = PAYEE_ENTRY_BYTES * 2;
  const count = digits.length / entryDigits;
  if (count === 0 || count > MAX_PAYEES || !Number.isInteger(count)) {
    throw malformedError(BATCH_PART.payees, digits.length / 2);
  }
  const entries: { payee: Address; payeeBank: number }[] = [];
  const banks = new Set<number>();
  for (let at = 0; at < digits.length; at += entryDigits) {
    const payeeBank = Number.parseInt(digits.slice(at + 40, at + 44), 16);
    banks.add(payeeBank);
    if (banks.size > MAX_PAYEE_BANKS) throw malformedError(BATCH_PART.payees, at / 2);
    entries.push({ payee: `0x${digits.slice(at, at + 40)}`, payeeBank });
  }
  return entries;
}

/** The lowercase hex digits of `value` without `0x`, checked to be whole bytes. */
function hexDigits(value: Hex, part: number): string {
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) throw malformedError(part, 0);
  return value.slice(2).toLowerCase();
}

function malformedError(part: number, offset: number): QRSettleError {
  return new QRSettleError("BATCH_MALFORMED", "The batch encoding is malformed.", {
    details: { part: part === BATCH_PART.payees ? "payees" : "items", offset },
  });
}
