import type { PublicClient } from "viem";

import { ledgerDomain } from "../protocol/eip712.ts";
import { decodePaymentTerms } from "../protocol/events.ts";
import { BatchChecker, type BatchCheckerContext } from "./batchChecker.ts";
import { compareWithChain } from "./compareWithChain.ts";
import { decodeLog, type AuditEvent } from "./decodeLog.ts";
import type { AuditedDeployment } from "./verifyDeployment.ts";
import { FindingCollector, type CheckId, type CheckResult, type Evidence } from "./findings.ts";
import { FxChecker } from "./fxChecker.ts";
import { createLedgerHasher } from "./ledgerHasher.ts";
import { LedgerReplay } from "./ledgerReplay.ts";
import { PaymentIndex } from "./paymentIndex.ts";
import { RefundChecker } from "./refundChecker.ts";
import { ReportTotals } from "./reportTotals.ts";
import { SignerRecoverer } from "./signerRecoverer.ts";
import type { AuditStore, Checkpoint } from "./store.ts";

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  client: PublicClient;
  store: AuditStore;
  deployment: AuditedDeployment;
  /** The last indexed block, whose state the events are compared with; none before the first block. */
  checkpoint: Checkpoint | undefined;
  /** Scratch SQLite file for the payment index; deleted when done. */
  scratchFile: string;
  /** Called every `progressEvery` events with the count so far. */
  onProgress?: (eventsDone: number) => void;
  progressEvery?: number;
  /** Worker threads for signature recovery; one per core by default. */
  workers?: number;
}

/** Throughput of each stage, for progress output and the benchmark. */
export interface ReconcileStats {
  events: number;
  /** Settled payments, same-currency and cross-currency. */
  payments: number;
  /** The cross-currency part of `payments`. */
  crossCurrencyPayments: number;
  /** Seconds spent decoding logs and calldata. */
  decodeSeconds: number;
  /** Seconds spent replaying, checking and waiting for signature checks. */
  checkSeconds: number;
  /** Seconds comparing with the contracts' state. */
  stateSeconds: number;
}

/** Everything the reports are made of. */
export interface Reconciliation {
  checks: CheckResult[];
  passed: boolean;
  totals: ReportTotals;
  /** The registry as rebuilt: banks and currencies, for naming them in reports. */
  registry: Pick<LedgerReplay, "banks" | "currencies">;
  stats: ReconcileStats;
}

/**
 * Replays every stored event in chain order, checking as it goes (batches, refunds, interbank legs,
 * signatures, ledger rules), then compares the rebuilt state with the contracts' views at the checkpoint.
 * Streams: memory holds accounts, banks and per-day totals, never the history itself.
 *
 * @example
 * const result = await reconcile({ client, store, deployment, checkpoint, scratchFile: "/tmp/scratch.sqlite" });
 * if (!result.passed) process.exitCode = 1;
 */
export async function reconcile(options: ReconcileOptions): Promise<Reconciliation> {
  const { client, store, deployment, checkpoint, onProgress } = options;
  const progressEvery = options.progressEvery ?? 100_000;
  const findings = new FindingCollector();
  const replay = new LedgerReplay(findings);
  const totals = new ReportTotals();
  const payments = new PaymentIndex(options.scratchFile);
  const recoverer = new SignerRecoverer(options.workers);
  const context: BatchCheckerContext = {
    client,
    ledger: deployment.ledger,
    store,
    findings,
    replay,
    payments,
    hasher: await createLedgerHasher(ledgerDomain(deployment.chainId, deployment.ledger)),
    recoverer,
  };
  const batches = new BatchChecker(context);
  const refunds = new RefundChecker(context);
  const fx = new FxChecker(context, deployment);
  const legs = new InterbankLegs(findings);
  const stats: ReconcileStats = {
    events: 0,
    payments: 0,
    crossCurrencyPayments: 0,
    decodeSeconds: 0,
    checkSeconds: 0,
    stateSeconds: 0,
  };

  try {
    let clock = performance.now();
    const lap = (): number => {
      const now = performance.now();
      const elapsed = (now - clock) / 1000;
      clock = now;
      return elapsed;
    };
    for (const log of store.logs()) {
      const event = decodeLog(log, deployment);
      stats.decodeSeconds += lap();
      stats.events += 1;
      findings.examined("events.decoded");
      if (event === undefined) {
        findings.fail({
          check: "events.decoded",
          message: "a log of the deployment that is none of its contracts' events",
          evidence: {
            blockNumber: log.blockNumber,
            transactionHash: log.transactionHash,
            logIndex: log.logIndex,
          },
          details: { address: log.address, topic0: log.topics[0] ?? "(none)" },
        });
        continue;
      }
      if (batches.isOpen && batches.transactionHash !== event.at.transactionHash) batches.abandon();
      if (refunds.transactionHash !== undefined && refunds.transactionHash !== event.at.transactionHash) {
        await refunds.close();
      }
      if (fx.transactionHash !== undefined && fx.transactionHash !== event.at.transactionHash) {
        await fx.close();
      }
      legs.observe(event, batches.isOpen);
      replay.apply(event);
      totals.add(event);
      if (event.contract === "fx") {
        if (event.eventName !== "EIP712DomainChanged") fx.add(event);
        stats.checkSeconds += lap();
        if (stats.events % progressEvery === 0) onProgress?.(stats.events);
        continue;
      }
      switch (event.eventName) {
        case "PaymentSettled":
          stats.payments += 1;
          batches.addItem(event);
          break;
        case "PaymentRejected":
          batches.addItem(event);
          break;
        case "InterbankSettled":
          if (batches.isOpen) batches.addLeg(event);
          break;
        case "BatchSettled":
          await batches.close(event);
          break;
        case "PaymentRefunded":
        case "RefundRejected":
          refunds.add(event);
          break;
        case "CrossCurrencySettled":
          stats.payments += 1;
          stats.crossCurrencyPayments += 1;
          fx.add(event);
          break;
        default:
          break;
      }
      stats.checkSeconds += lap();
      if (stats.events % progressEvery === 0) onProgress?.(stats.events);
    }
    if (batches.isOpen) batches.abandon();
    await refunds.close();
    await fx.close();
    legs.finish();
    await batches.drain();
    stats.checkSeconds += lap();
    if (checkpoint !== undefined) {
      await compareWithChain({
        client,
        deployment,
        blockNumber: checkpoint.blockNumber,
        blockHash: checkpoint.blockHash,
        replay,
        payments,
        findings,
      });
      await fx.compareQuotes(checkpoint);
    }
    stats.stateSeconds = lap();
  } finally {
    payments.close();
    await recoverer.close();
  }
  const checks = findings.results();
  return { checks, passed: checks.every((check) => check.passed), totals, registry: replay, stats };
}

/** A reserve movement a refund, forced move or cross-currency payment between banks owes. */
interface OwedLeg {
  from: number;
  to: number;
  currency: number;
  amount: bigint;
  at: Evidence;
  /** The check a missing or different movement fails. */
  check: CheckId;
}

/**
 * The reserve legs a refund or forced move between two banks owes (the `InterbankSettled` right after it,
 * same banks, currency and amount), and the two legs of a cross-currency payment (payer bank → provider in
 * the pay currency, provider → payee bank in the receive currency, each only between different banks). A
 * batch's legs are its `BatchChecker`'s. A leg nobody owes is an unexplained movement of reserves.
 */
class InterbankLegs {
  readonly #findings: FindingCollector;
  #owed: OwedLeg[] = [];

  constructor(findings: FindingCollector) {
    this.#findings = findings;
  }

  observe(event: AuditEvent, batchOpen: boolean): void {
    if (event.contract === "ledger" && event.eventName === "InterbankSettled") {
      if (batchOpen) return;
      const { fromBank, toBank, currency, amount } = event.args;
      const index = this.#owed.findIndex(
        (leg) =>
          leg.at.transactionHash === event.at.transactionHash &&
          leg.from === fromBank &&
          leg.to === toBank &&
          leg.currency === currency,
      );
      const owed = index >= 0 ? this.#owed.splice(index, 1)[0] : undefined;
      if (owed === undefined) {
        // Whatever else was owed was not settled by this movement either.
        this.#reportMissing();
        this.#findings.examined("interbank.net");
        this.#findings.fail({
          check: "interbank.net",
          message: "a reserve movement that no payment, refund or forced move explains",
          evidence: event.at,
          details: { fromBank: String(fromBank), toBank: String(toBank), amount: String(amount) },
        });
        return;
      }
      this.#findings.examined(owed.check);
      if (owed.amount !== amount) {
        this.#findings.fail({
          check: owed.check,
          message:
            owed.check === "fx.legs"
              ? "a reserve movement that differs from the cross-currency leg it settles"
              : "a reserve movement that differs from the refund or forced move it settles",
          evidence: event.at,
          details: {
            fromBank: String(fromBank),
            toBank: String(toBank),
            amount: String(amount),
            owed: String(owed.amount),
          },
        });
      }
      return;
    }
    this.#reportMissing();
    if (event.contract !== "ledger") return;
    if (event.eventName === "PaymentRefunded" && event.args.payeeBank !== event.args.payerBank) {
      const { payeeBank, payerBank, currency, amount } = event.args;
      this.#owe({ from: payeeBank, to: payerBank, currency, amount, at: event.at, check: "interbank.net" });
    }
    if (event.eventName === "ForcedTransfer" && event.args.fromBank !== event.args.toBank) {
      const { fromBank, toBank, currency, amount } = event.args;
      this.#owe({ from: fromBank, to: toBank, currency, amount, at: event.at, check: "interbank.net" });
    }
    if (event.eventName === "CrossCurrencySettled") {
      for (const terms of [event.args.payTerms, event.args.receiveTerms]) {
        const { payerBank: from, payeeBank: to, currency, amount } = decodePaymentTerms(terms);
        if (from !== to) this.#owe({ from, to, currency, amount, at: event.at, check: "fx.legs" });
      }
    }
  }

  /** Reports legs still owed when the history ends. */
  finish(): void {
    this.#reportMissing();
  }

  #owe(leg: OwedLeg): void {
    this.#owed.push(leg);
  }

  #reportMissing(): void {
    for (const owed of this.#owed) {
      this.#findings.examined(owed.check);
      this.#findings.fail({
        check: owed.check,
        message:
          owed.check === "fx.legs"
            ? "a cross-currency payment's leg between banks without the reserve movement that settles it"
            : "a refund or forced move between banks without the reserve movement that settles it",
        evidence: owed.at,
        details: { fromBank: String(owed.from), toBank: String(owed.to), amount: String(owed.amount) },
      });
    }
    this.#owed = [];
  }
}
