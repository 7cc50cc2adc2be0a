import type { Address, Hex, Log } from "viem";

import { readCrossCurrencySettled, readPaymentRejected, readPaymentSettled } from "../../protocol/events.ts";
import { rejectReasonName } from "../../protocol/reasons.ts";
import { refundOutcomes } from "../../protocol/refundOutcomes.ts";
import type { RequestOutcome, StoredRequest } from "../store/types.ts";

/**
 * Collects the settled and rejected payment ids of `logs`, each event only from its emitter, read by hand
 * (`readPaymentSettled` and its siblings): decoding every log with viem (checksummed addresses, every field)
 * cost the relayer's event loop about 25 µs per payment of a batch.
 */
function paymentIds(
  logs: readonly Log[],
  settledBy: { read: (log: Log) => { paymentId: Hex } | undefined; emitter: Address },
  rejectedBy: Address | undefined,
  settled: Set<string>,
  rejected: Map<string, string>,
): void {
  const settledEmitter = settledBy.emitter.toLowerCase();
  const rejectedEmitter = rejectedBy?.toLowerCase();
  for (const log of logs) {
    const emitter = log.address.toLowerCase();
    const settledPayment = emitter === settledEmitter ? settledBy.read(log) : undefined;
    if (settledPayment !== undefined) {
      settled.add(settledPayment.paymentId.toLowerCase());
      continue;
    }
    const rejectedPayment = emitter === rejectedEmitter ? readPaymentRejected(log) : undefined;
    if (rejectedPayment !== undefined)
      rejected.set(rejectedPayment.paymentId.toLowerCase(), rejectReasonName(rejectedPayment.reason));
  }
}

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
    paymentIds(logs, { read: readCrossCurrencySettled, emitter: ledger }, fx, settled, rejected);
  } else if (requests[0]?.kind === "refund") {
    const outcome = refundOutcomes(logs, ledger);
    outcome.refunded.forEach((refund) => settled.add(refund.refundId.toLowerCase()));
    outcome.rejected.forEach((refund) => rejected.set(refund.refundId.toLowerCase(), refund.reason));
  } else {
    paymentIds(logs, { read: readPaymentSettled, emitter: ledger }, ledger, settled, rejected);
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
