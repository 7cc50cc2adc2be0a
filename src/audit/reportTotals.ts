import { keccak256, stringToHex, type Hex } from "viem";

import { decodePaymentTerms } from "../protocol/events.ts";
import { rejectReasonName } from "../protocol/reasons.ts";
import type { AuditEvent } from "./decodeLog.ts";

/**
 * Payments, refunds and skipped payments over some slice of the history. (A skipped refund names no
 * currency in its event, so skipped refunds are only counted by reason.)
 */
export interface Volume {
  payments: number;
  paymentAmount: bigint;
  /** The part of `paymentAmount` paid to another bank's customers. */
  crossBankAmount: bigint;
  refunds: number;
  refundAmount: bigint;
  rejectedPayments: number;
  /** Cross-currency payments paid out of or into this currency (each counts in both of its currencies). */
  fxPayments: number;
  /** Paid in this currency by cross-currency payments (their pay leg). */
  fxPaidAmount: bigint;
  /** Received in this currency from cross-currency payments (their receive leg). */
  fxReceivedAmount: bigint;
}

/** One UTC day in one currency. */
export interface DayTotals extends Volume {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  currency: number;
}

/** One currency over the whole history. */
export interface CurrencyTotals extends Volume {
  currency: number;
  reservesIssued: bigint;
  reservesRedeemed: bigint;
  depositsIssued: bigint;
  depositsRedeemed: bigint;
  forcedTransfers: number;
  forcedAmount: bigint;
}

/** One bank in one currency over the whole history, from its side. */
export interface BankTotals {
  bank: number;
  currency: number;
  paymentsSent: number;
  amountSent: bigint;
  paymentsReceived: number;
  amountReceived: bigint;
  refundsPaid: bigint;
  refundsReceived: bigint;
  rejectedPayments: number;
  reservesIssued: bigint;
  reservesRedeemed: bigint;
  depositsIssued: bigint;
  depositsRedeemed: bigint;
  /** Reserves moved to other banks by `InterbankSettled` (cross-currency legs included). */
  settledOut: bigint;
  settledIn: bigint;
  /** Cross-currency: paid by its customers in this currency, and received by them. */
  fxSent: bigint;
  fxReceived: bigint;
  /** As FX provider: taken in this currency (pay legs), and delivered in it (receive legs). */
  fxProviderIn: bigint;
  fxProviderOut: bigint;
}

/** What two banks moved to each other in reserves, and the net. */
export interface NetPosition {
  currency: number;
  bankA: number;
  bankB: number;
  aToB: bigint;
  bToA: bigint;
  /** `aToB − bToA`: positive when A paid B more than B paid A. */
  net: bigint;
}

/** How many items were skipped for one reason. */
export interface RejectionCount {
  kind: "payment" | "refund" | "fx payment";
  reason: string;
  count: number;
}

/** A role, cap, freeze, status or enforcement change, in chain order. */
export interface ControlChange {
  blockNumber: number;
  timestamp: number;
  transactionHash: Hex;
  logIndex: number;
  event: string;
  /** The event's arguments, roles by name. */
  summary: string;
}

const ROLE_NAMES = new Map<string, string>([
  [`0x${"00".repeat(32)}`, "DEFAULT_ADMIN_ROLE"],
  ...["OPERATOR_ROLE", "SETTLEMENT_AGENT_ROLE", "PAUSER_ROLE", "FREEZER_ROLE", "ENFORCER_ROLE"].map(
    (name) => [keccak256(stringToHex(name)), name] as [string, string],
  ),
]);

/** Ledger events that are controls rather than money moving, listed with every registry event. */
const LEDGER_CONTROLS = new Set(["AccountFrozen", "CustomerLimitSet", "ForcedTransfer"]);

const emptyVolume = (): Volume => ({
  payments: 0,
  paymentAmount: 0n,
  crossBankAmount: 0n,
  refunds: 0,
  refundAmount: 0n,
  rejectedPayments: 0,
  fxPayments: 0,
  fxPaidAmount: 0n,
  fxReceivedAmount: 0n,
});

/**
 * The report's totals, accumulated event by event: per UTC day and currency, per currency, per bank and
 * currency, reserve flows between each pair of banks, skipped items by reason, and every control change.
 * Sizes grow with days, banks and controls, never with payments.
 *
 * @example
 * const totals = new ReportTotals();
 * for (const event of events) totals.add(event);
 * totals.netPositions();
 */
export class ReportTotals {
  readonly days = new Map<string, DayTotals>();
  readonly currencies = new Map<number, CurrencyTotals>();
  readonly banks = new Map<string, BankTotals>();
  readonly controls: ControlChange[] = [];
  readonly #flows = new Map<string, bigint>();
  readonly #rejections = new Map<string, RejectionCount>();
  /** Currency of each batch's items, known only at its `BatchSettled`; rejected items wait for it. */
  #pendingRejections = 0;

  add(event: AuditEvent): void {
    if (event.contract === "registry" || LEDGER_CONTROLS.has(event.eventName)) this.#addControl(event);
    if (event.contract === "registry") return;
    if (event.contract === "fx") {
      // A skipped cross-currency payment names no currency in its event: counted by reason only.
      if (event.eventName === "PaymentRejected") this.#countRejection("fx payment", event.args.reason);
      return;
    }
    switch (event.eventName) {
      case "PaymentSettled": {
        const { amount, payerBank, payeeBank, currency } = decodePaymentTerms(event.args.terms);
        for (const volume of [this.#day(event.timestamp, currency), this.#currency(currency)]) {
          volume.payments += 1;
          volume.paymentAmount += amount;
          if (payerBank !== payeeBank) volume.crossBankAmount += amount;
        }
        const sender = this.#bank(payerBank, currency);
        sender.paymentsSent += 1;
        sender.amountSent += amount;
        const receiver = this.#bank(payeeBank, currency);
        receiver.paymentsReceived += 1;
        receiver.amountReceived += amount;
        break;
      }
      case "CrossCurrencySettled": {
        const pay = decodePaymentTerms(event.args.payTerms);
        const receive = decodePaymentTerms(event.args.receiveTerms);
        for (const volume of [this.#day(event.timestamp, pay.currency), this.#currency(pay.currency)]) {
          volume.fxPayments += 1;
          volume.fxPaidAmount += pay.amount;
        }
        for (const volume of [
          this.#day(event.timestamp, receive.currency),
          this.#currency(receive.currency),
        ]) {
          if (receive.currency !== pay.currency) volume.fxPayments += 1;
          volume.fxReceivedAmount += receive.amount;
        }
        this.#bank(pay.payerBank, pay.currency).fxSent += pay.amount;
        this.#bank(pay.payeeBank, pay.currency).fxProviderIn += pay.amount;
        this.#bank(receive.payerBank, receive.currency).fxProviderOut += receive.amount;
        this.#bank(receive.payeeBank, receive.currency).fxReceived += receive.amount;
        break;
      }
      case "PaymentRejected":
        this.#pendingRejections += 1;
        this.#countRejection("payment", event.args.reason);
        break;
      case "BatchSettled": {
        const { currency, payerBank } = event.args;
        this.#day(event.timestamp, currency).rejectedPayments += this.#pendingRejections;
        this.#currency(currency).rejectedPayments += this.#pendingRejections;
        this.#bank(payerBank, currency).rejectedPayments += this.#pendingRejections;
        this.#pendingRejections = 0;
        break;
      }
      case "PaymentRefunded": {
        const { amount, payerBank, payeeBank, currency } = event.args;
        for (const volume of [this.#day(event.timestamp, currency), this.#currency(currency)]) {
          volume.refunds += 1;
          volume.refundAmount += amount;
        }
        this.#bank(payeeBank, currency).refundsPaid += amount;
        this.#bank(payerBank, currency).refundsReceived += amount;
        break;
      }
      case "RefundRejected":
        this.#countRejection("refund", event.args.reason);
        break;
      case "ReservesIssued":
        this.#currency(event.args.currency).reservesIssued += event.args.amount;
        this.#bank(event.args.bankId, event.args.currency).reservesIssued += event.args.amount;
        break;
      case "ReservesRedeemed":
        this.#currency(event.args.currency).reservesRedeemed += event.args.amount;
        this.#bank(event.args.bankId, event.args.currency).reservesRedeemed += event.args.amount;
        break;
      case "DepositsIssued":
        this.#currency(event.args.currency).depositsIssued += event.args.amount;
        this.#bank(event.args.bankId, event.args.currency).depositsIssued += event.args.amount;
        break;
      case "DepositsRedeemed":
        this.#currency(event.args.currency).depositsRedeemed += event.args.amount;
        this.#bank(event.args.bankId, event.args.currency).depositsRedeemed += event.args.amount;
        break;
      case "ForcedTransfer":
        this.#currency(event.args.currency).forcedTransfers += 1;
        this.#currency(event.args.currency).forcedAmount += event.args.amount;
        break;
      case "InterbankSettled": {
        const { fromBank, toBank, currency, amount } = event.args;
        this.#bank(fromBank, currency).settledOut += amount;
        this.#bank(toBank, currency).settledIn += amount;
        const key = `${currency}:${fromBank}:${toBank}`;
        this.#flows.set(key, (this.#flows.get(key) ?? 0n) + amount);
        break;
      }
      default:
        break;
    }
  }

  /** Reserve flows between every pair of banks that moved any, per currency, with the net. */
  netPositions(): NetPosition[] {
    const pairs = new Map<string, NetPosition>();
    for (const [key, amount] of this.#flows) {
      const [currency, from, to] = key.split(":").map(Number) as [number, number, number];
      const [bankA, bankB] = from < to ? [from, to] : [to, from];
      const pairKey = `${currency}:${bankA}:${bankB}`;
      const pair = pairs.get(pairKey) ?? { currency, bankA, bankB, aToB: 0n, bToA: 0n, net: 0n };
      if (from === bankA) pair.aToB += amount;
      else pair.bToA += amount;
      pair.net = pair.aToB - pair.bToA;
      pairs.set(pairKey, pair);
    }
    return [...pairs.values()].sort(
      (x, y) => x.currency - y.currency || x.bankA - y.bankA || x.bankB - y.bankB,
    );
  }

  /** Skipped payments and refunds by reason, most frequent first. */
  rejections(): RejectionCount[] {
    return [...this.#rejections.values()].sort((a, b) => b.count - a.count);
  }

  #countRejection(kind: RejectionCount["kind"], reasonCode: number): void {
    const reason = rejectReasonName(reasonCode);
    const key = `${kind}:${reason}`;
    const entry = this.#rejections.get(key) ?? { kind, reason, count: 0 };
    entry.count += 1;
    this.#rejections.set(key, entry);
  }

  #addControl(event: AuditEvent): void {
    const summary = Object.entries(event.args as Record<string, unknown>)
      .map(([name, value]) => {
        const text = String(value);
        return `${name}=${name === "role" || name === "previousAdminRole" || name === "newAdminRole" ? (ROLE_NAMES.get(text) ?? text) : text}`;
      })
      .join(" ");
    this.controls.push({
      blockNumber: event.at.blockNumber,
      timestamp: event.timestamp,
      transactionHash: event.at.transactionHash,
      logIndex: event.at.logIndex ?? 0,
      event: event.eventName,
      summary,
    });
  }

  #day(timestamp: number, currency: number): DayTotals {
    const day = new Date(timestamp * 1000).toISOString().slice(0, 10);
    const key = `${day}:${currency}`;
    let totals = this.days.get(key);
    if (totals === undefined) {
      totals = { day, currency, ...emptyVolume() };
      this.days.set(key, totals);
    }
    return totals;
  }

  #currency(currency: number): CurrencyTotals {
    let totals = this.currencies.get(currency);
    if (totals === undefined) {
      totals = {
        currency,
        ...emptyVolume(),
        reservesIssued: 0n,
        reservesRedeemed: 0n,
        depositsIssued: 0n,
        depositsRedeemed: 0n,
        forcedTransfers: 0,
        forcedAmount: 0n,
      };
      this.currencies.set(currency, totals);
    }
    return totals;
  }

  #bank(bank: number, currency: number): BankTotals {
    const key = `${bank}:${currency}`;
    let totals = this.banks.get(key);
    if (totals === undefined) {
      totals = {
        bank,
        currency,
        paymentsSent: 0,
        amountSent: 0n,
        paymentsReceived: 0,
        amountReceived: 0n,
        refundsPaid: 0n,
        refundsReceived: 0n,
        rejectedPayments: 0,
        reservesIssued: 0n,
        reservesRedeemed: 0n,
        depositsIssued: 0n,
        depositsRedeemed: 0n,
        settledOut: 0n,
        settledIn: 0n,
        fxSent: 0n,
        fxReceived: 0n,
        fxProviderIn: 0n,
        fxProviderOut: 0n,
      };
      this.banks.set(key, totals);
    }
    return totals;
  }
}
