import { parseEventLogs, type Address, type Hex, type Log } from "viem";

import { settlementLedgerAbi } from "./generated/abi.ts";
import { rejectReasonName, type RejectReason } from "./reasons.ts";

/** The fields `PaymentSettled` packs into its `terms` word. */
export interface PaymentTerms {
  amount: bigint;
  payerBank: number;
  payeeBank: number;
  currency: number;
}

/**
 * Unpacks `PaymentSettled.terms`: amount (bits 0–95) ‖ payer bank (96–111) ‖ payee bank (112–127) ‖
 * currency (128–143).
 *
 * @example
 * decodePaymentTerms(event.args.terms); // { amount: 12345n, payerBank: 1, payeeBank: 2, currency: 156 }
 */
export function decodePaymentTerms(terms: bigint): PaymentTerms {
  return {
    amount: terms & ((1n << 96n) - 1n),
    payerBank: Number((terms >> 96n) & 0xffffn),
    payeeBank: Number((terms >> 112n) & 0xffffn),
    currency: Number((terms >> 128n) & 0xffffn),
  };
}

/** One settled payment, from `PaymentSettled`. */
export interface SettledPayment {
  paymentId: Hex;
  payer: Address;
  payee: Address;
  qrHash: Hex;
  amount: bigint;
  payerBank: number;
  payeeBank: number;
  currency: number;
  logIndex: number;
}

/** One skipped payment, from `PaymentRejected`. */
export interface RejectedPayment {
  paymentId: Hex;
  payer: Address;
  reason: RejectReason | `Unknown(${number})`;
  reasonCode: number;
}

/** What one `settlePayments` transaction did, from its receipt's logs. */
export interface BatchOutcome {
  /** Merkle root of the settled ids (zero when none settled); refunds prove payments against it. */
  root: Hex;
  payerBank: number;
  currency: number;
  /** Settled payments, in settlement order (the order of the root's leaves). */
  settled: SettledPayment[];
  rejected: RejectedPayment[];
}

/**
 * Reads a `settlePayments` receipt: which payments settled, which were skipped and why, and the batch root.
 * Only logs emitted by `ledger` count. Returns one outcome per batch in the logs, in order.
 *
 * @example
 * const [outcome] = batchOutcomes(receipt.logs, ledgerAddress);
 * console.log(outcome.settled.length, outcome.rejected.map((r) => r.reason));
 */
export function batchOutcomes(logs: readonly Log[], ledger: Address): BatchOutcome[] {
  const events = parseEventLogs({
    abi: settlementLedgerAbi,
    logs: logs.filter((log) => log.address.toLowerCase() === ledger.toLowerCase()),
    eventName: ["PaymentSettled", "PaymentRejected", "BatchSettled"],
  });
  const outcomes: BatchOutcome[] = [];
  let settled: SettledPayment[] = [];
  let rejected: RejectedPayment[] = [];
  for (const event of events) {
    if (event.eventName === "PaymentSettled") {
      const { payer, payee, paymentId, qrHash, terms } = event.args;
      settled.push({
        paymentId,
        payer,
        payee,
        qrHash,
        ...decodePaymentTerms(terms),
        logIndex: event.logIndex,
      });
    } else if (event.eventName === "PaymentRejected") {
      const { paymentId, payer, reason } = event.args;
      rejected.push({ paymentId, payer, reason: rejectReasonName(reason), reasonCode: reason });
    } else {
      const { root, payerBank, currency } = event.args;
      outcomes.push({ root, payerBank, currency, settled, rejected });
      settled = [];
      rejected = [];
    }
  }
  return outcomes;
}
