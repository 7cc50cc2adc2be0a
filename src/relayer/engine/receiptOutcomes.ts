import { getAbiItem, toEventSelector, type Abi, type AbiEvent, type Address, type Hex, type Log } from "viem";

import { fxSettlementAbi, settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import { rejectReasonName } from "../../protocol/reasons.ts";
import { refundOutcomes } from "../../protocol/refundOutcomes.ts";
import type { RequestOutcome, StoredRequest } from "../store/types.ts";

/** Where one event carries a payment's id (and, for a rejection, its reason): a topic or a data word. */
interface IdLocator {
  topic0: Hex;
  id: { topic: number } | { word: number };
  reasonWord?: number;
}

/**
 * Locates `paymentId` (and `reason`) in an event from its ABI: indexed inputs are topics 1…, the others data
 * words 0…, which holds while every input before them is a static one-word type (checked here, once).
 */
function locate(abi: Abi, eventName: string): IdLocator {
  const event = getAbiItem({ abi, name: eventName }) as AbiEvent;
  let topic = 1;
  let word = 0;
  let id: IdLocator["id"] | undefined;
  let reasonWord: number | undefined;
  for (const input of event.inputs) {
    if (input.indexed === true) {
      if (input.name === "paymentId") id = { topic };
      topic++;
      continue;
    }
    if (input.name === "paymentId") id = { word };
    if (input.name === "reason") reasonWord = word;
    if (/^(string|bytes|tuple)$|\[/.test(input.type))
      throw new Error(`${eventName}: ${input.type} ${input.name ?? ""} is not one data word`);
    word++;
  }
  if (id === undefined) throw new Error(`${eventName} has no paymentId`);
  return { topic0: toEventSelector(event), id, ...(reasonWord === undefined ? {} : { reasonWord }) };
}

const SETTLED = locate(settlementLedgerAbi, "PaymentSettled");
const REJECTED = locate(settlementLedgerAbi, "PaymentRejected");
const FX_SETTLED = locate(settlementLedgerAbi, "CrossCurrencySettled");
const FX_REJECTED = locate(fxSettlementAbi, "PaymentRejected");

const dataWord = (data: Hex, index: number): Hex => `0x${data.slice(2 + 64 * index, 66 + 64 * index)}`;

/**
 * Reads the settled and rejected payment ids of `logs` straight from their topics and data words, for the events
 * given, each only from its emitter. Decoding every log with viem (checksummed addresses, every field) cost the
 * relayer's event loop about 25 µs per payment of a batch.
 */
function paymentIds(
  logs: readonly Log[],
  settledBy: { event: IdLocator; emitter: Address },
  rejectedBy: { event: IdLocator; emitter: Address } | undefined,
  settled: Set<string>,
  rejected: Map<string, string>,
): void {
  const idOf = (log: Log, event: IdLocator) =>
    ("topic" in event.id ? log.topics[event.id.topic] : dataWord(log.data, event.id.word))?.toLowerCase();
  const settledEmitter = settledBy.emitter.toLowerCase();
  const rejectedEmitter = rejectedBy?.emitter.toLowerCase();
  for (const log of logs) {
    const emitter = log.address.toLowerCase();
    const topic0 = log.topics[0];
    if (emitter === settledEmitter && topic0 === settledBy.event.topic0) {
      const id = idOf(log, settledBy.event);
      if (id !== undefined) settled.add(id);
    } else if (
      rejectedBy !== undefined &&
      emitter === rejectedEmitter &&
      topic0 === rejectedBy.event.topic0
    ) {
      const id = idOf(log, rejectedBy.event);
      const reason = Number(BigInt(dataWord(log.data, rejectedBy.event.reasonWord ?? 0)));
      if (id !== undefined) rejected.set(id, rejectReasonName(reason));
    }
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
    paymentIds(
      logs,
      { event: FX_SETTLED, emitter: ledger },
      fx === undefined ? undefined : { event: FX_REJECTED, emitter: fx },
      settled,
      rejected,
    );
  } else if (requests[0]?.kind === "refund") {
    const outcome = refundOutcomes(logs, ledger);
    outcome.refunded.forEach((refund) => settled.add(refund.refundId.toLowerCase()));
    outcome.rejected.forEach((refund) => rejected.set(refund.refundId.toLowerCase(), refund.reason));
  } else {
    paymentIds(
      logs,
      { event: SETTLED, emitter: ledger },
      { event: REJECTED, emitter: ledger },
      settled,
      rejected,
    );
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
