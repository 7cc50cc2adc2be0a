import { parseEventLogs, toEventSelector, type Abi, type Address, type Hex, type Log } from "viem";

import { fxSettlementAbi, settlementLedgerAbi } from "./generated/abi.ts";
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

function selectorOf(abi: Abi, name: string): Hex {
  const event = abi.find((item) => item.type === "event" && item.name === name);
  if (event?.type !== "event") throw new Error(`ABI has no event ${name}`);
  return toEventSelector(event);
}

/** topic0 of the ledger's `PaymentSettled`. */
export const PAYMENT_SETTLED_TOPIC = selectorOf(settlementLedgerAbi, "PaymentSettled");
/** topic0 of `PaymentRejected`: the ledger's and the FX contract's have one signature. */
export const PAYMENT_REJECTED_TOPIC = selectorOf(settlementLedgerAbi, "PaymentRejected");
/** topic0 of the ledger's `CrossCurrencySettled`. */
export const CROSS_CURRENCY_SETTLED_TOPIC = selectorOf(settlementLedgerAbi, "CrossCurrencySettled");
if (selectorOf(fxSettlementAbi, "PaymentRejected") !== PAYMENT_REJECTED_TOPIC)
  throw new Error("The FX contract's PaymentRejected differs from the ledger's");

/** The part of a log the readers below look at. */
interface RawLog {
  topics: readonly Hex[];
  data: Hex;
}

/** An indexed address topic, lower-case: checksumming it, as viem's decoder does, would cost a hash. */
const topicAddress = (topic: Hex | undefined): Address => `0x${(topic ?? "").slice(26)}`;
/** Data word `index` of a log, as 32-byte hex. */
const word = (data: Hex, index: number): Hex => `0x${data.slice(2 + 64 * index, 66 + 64 * index)}`;

/** The fields `PaymentSettled` and `CrossCurrencySettled` share, in the same places. */
interface SettledHead {
  payer: Address;
  payee: Address;
  paymentId: Hex;
  qrHash: Hex;
}

/**
 * A settled-payment event of `topic0` with `words` data words: payer and payee topics, then paymentId and
 * qrHash as its first data words; undefined for any other log.
 */
function readSettledHead(log: RawLog, topic0: Hex, words: number): SettledHead | undefined {
  const [topic, payer, payee] = log.topics;
  if (topic !== topic0 || log.topics.length !== 3 || log.data.length !== 2 + words * 64) return undefined;
  return {
    payer: topicAddress(payer),
    payee: topicAddress(payee),
    paymentId: word(log.data, 0),
    qrHash: word(log.data, 1),
  };
}

/**
 * The per-payment events, read by hand: their layouts are fixed, and they are most of every batch receipt and
 * of a history. Each reader checks topic0 and the log's exact shape, and answers undefined otherwise (leaving
 * the log to a full decoder). Addresses come back lower-case. The emitter is the caller's to check.
 *
 * @example
 * const settled = readPaymentSettled(log); // { payer, payee, paymentId, qrHash, terms } | undefined
 */
export function readPaymentSettled(log: RawLog): (SettledHead & { terms: bigint }) | undefined {
  const head = readSettledHead(log, PAYMENT_SETTLED_TOPIC, 3);
  return head && { ...head, terms: BigInt(word(log.data, 2)) };
}

/** `PaymentRejected` of the ledger or the FX contract, read by hand (see `readPaymentSettled`). */
export function readPaymentRejected(
  log: RawLog,
): { paymentId: Hex; payer: Address; reason: number } | undefined {
  const [topic0, paymentId, payer] = log.topics;
  if (topic0 !== PAYMENT_REJECTED_TOPIC || log.topics.length !== 3 || log.data.length !== 2 + 64)
    return undefined;
  return { paymentId: paymentId as Hex, payer: topicAddress(payer), reason: Number(BigInt(log.data)) };
}

/** The ledger's `CrossCurrencySettled`, read by hand (see `readPaymentSettled`). */
export function readCrossCurrencySettled(
  log: RawLog,
): (SettledHead & { payTerms: bigint; receiveTerms: bigint }) | undefined {
  const head = readSettledHead(log, CROSS_CURRENCY_SETTLED_TOPIC, 4);
  return head && { ...head, payTerms: BigInt(word(log.data, 2)), receiveTerms: BigInt(word(log.data, 3)) };
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
