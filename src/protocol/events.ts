import { parseEventLogs, type Address, type Hex, type Log } from "viem";

import { settlementLedgerAbi } from "./generated/abi.ts";
import { rejectReasonName, type RejectReason } from "./reasons.ts";

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
      settled.push({ ...event.args, logIndex: event.logIndex });
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
