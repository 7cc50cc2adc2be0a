import { parseEventLogs, type Address, type Hex, type Log } from "viem";

import { settlementLedgerAbi } from "./generated/abi.ts";
import { rejectReasonName, type RejectReason } from "./reasons.ts";

/** One settled refund, from `PaymentRefunded`. */
export interface SettledRefund {
  refundId: Hex;
  paymentId: Hex;
  payer: Address;
  payee: Address;
  amount: bigint;
}

/** One skipped refund, from `RefundRejected`. */
export interface RejectedRefund {
  refundId: Hex;
  paymentId: Hex;
  reason: RejectReason | `Unknown(${number})`;
  reasonCode: number;
}

/** What one `refundPayments` transaction did, from its receipt's logs. */
export interface RefundOutcome {
  refunded: SettledRefund[];
  rejected: RejectedRefund[];
}

/**
 * Reads a `refundPayments` receipt: which refunds settled and which were skipped and why. Only logs emitted by
 * `ledger` count.
 *
 * @example
 * const { refunded, rejected } = refundOutcomes(receipt.logs, ledgerAddress);
 */
export function refundOutcomes(logs: readonly Log[], ledger: Address): RefundOutcome {
  const events = parseEventLogs({
    abi: settlementLedgerAbi,
    logs: logs.filter((log) => log.address.toLowerCase() === ledger.toLowerCase()),
    eventName: ["PaymentRefunded", "RefundRejected"],
  });
  const outcome: RefundOutcome = { refunded: [], rejected: [] };
  for (const event of events) {
    if (event.eventName === "PaymentRefunded") {
      const { refundId, paymentId, payer, payee, amount } = event.args;
      outcome.refunded.push({ refundId, paymentId, payer, payee, amount });
    } else {
      const { refundId, paymentId, reason } = event.args;
      outcome.rejected.push({ refundId, paymentId, reason: rejectReasonName(reason), reasonCode: reason });
    }
  }
  return outcome;
}
