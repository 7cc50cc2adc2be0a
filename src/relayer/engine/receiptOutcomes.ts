import { isAddressEqual, parseEventLogs, type Address, type Hex, type Log } from "viem";

import { batchOutcomes } from "../../protocol/events.ts";
import { fxSettlementAbi, settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import { rejectReasonName } from "../../protocol/reasons.ts";
import { refundOutcomes } from "../../protocol/refundOutcomes.ts";
import type { RequestOutcome, StoredRequest } from "../store/types.ts";

/**
 * The outcome of every request a mined batch carried, from the ledger's events in its receipt:
 * `PaymentSettled`/`PaymentRejected` for payments, `PaymentRefunded`/`RefundRejected` for refunds, and for
 * cross-currency payments the ledger's `CrossCurrencySettled` and the FX contract's `PaymentRejected`. Requests the
 * receipt says nothing about are returned as `missing` (the caller must not guess their fate).
 *
 * @example
 * const { outcomes, missing } = receiptOutcomes(requests, receipt.logs, ledger);
 */
export function receiptOutcomes(
  requests: readonly StoredRequest[],
  logs: readonly Log[],
  ledger: Address,
  fx?: Address,
): { outcomes: RequestOutcome[]; missing: Hex[] } {
  const settled = new Set<string>();
  const rejected = new Map<string, string>();
  if (requests[0]?.kind === "fx") {
    const from = (address: Address) => (log: Log) => isAddressEqual(log.address, address);
    parseEventLogs({ abi: settlementLedgerAbi, eventName: "CrossCurrencySettled", logs: [...logs] })
      .filter(from(ledger))
      .forEach((log) => settled.add(log.args.paymentId.toLowerCase()));
    if (fx !== undefined) {
      parseEventLogs({ abi: fxSettlementAbi, eventName: "PaymentRejected", logs: [...logs] })
        .filter(from(fx))
        .forEach((log) => rejected.set(log.args.paymentId.toLowerCase(), rejectReasonName(log.args.reason)));
    }
  } else if (requests[0]?.kind === "refund") {
    const outcome = refundOutcomes(logs, ledger);
    outcome.refunded.forEach((refund) => settled.add(refund.refundId.toLowerCase()));
    outcome.rejected.forEach((refund) => rejected.set(refund.refundId.toLowerCase(), refund.reason));
  } else {
    for (const batch of batchOutcomes(logs, ledger)) {
      batch.settled.forEach((payment) => settled.add(payment.paymentId.toLowerCase()));
      batch.rejected.forEach((payment) => rejected.set(payment.paymentId.toLowerCase(), payment.reason));
    }
  }
  const outcomes: RequestOutcome[] = [];
  const missing: Hex[] = [];
  for (const request of requests) {
    const id = request.id.toLowerCase();
    const reason = rejected.get(id);
    if (settled.has(id)) outcomes.push({ id: request.id, status: "settled" });
    else if (reason !== undefined) outcomes.push({ id: request.id, status: "rejected", reason });
    else missing.push(request.id);
  }
  return { outcomes, missing };
}
