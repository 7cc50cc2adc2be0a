import { hexToString, type Hex } from "viem";

import { BANK_STATUSES } from "../protocol/types.ts";
import type { AuditedDeployment } from "./verifyDeployment.ts";
import type { CheckResult, Finding } from "./findings.ts";
import type { IndexSummary } from "./indexer.ts";
import type { ReconcileStats, Reconciliation } from "./reconcile.ts";
import type {
  BankTotals,
  ControlChange,
  CurrencyTotals,
  DayTotals,
  NetPosition,
  RejectionCount,
} from "./reportTotals.ts";

/** Turns every bigint of a record type into a decimal string: JSON has no 96-bit integers. */
export type Jsonified<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] };

/** A registered bank as the report names it. */
export interface ReportedBank {
  id: number;
  bic: string;
  name: string;
  status: "Active" | "Suspended" | "None";
}

/** The audit report: what was read, every check with its evidence, and the totals people read. */
export interface AuditReport {
  generatedAt: string;
  deployment: { chainId: number; registry: string; ledger: string; fx: string };
  indexed: {
    /** The last block read, or null when no block after the deployment is confirmed yet. */
    toBlock: string | null;
    toBlockHash: Hex | null;
    events: number;
    /** Settled payments, same-currency and cross-currency. */
    payments: number;
    crossCurrencyPayments: number;
    reorgs: { forkBlock: string; rolledBackFrom: string }[];
  };
  passed: boolean;
  checks: CheckResult[];
  /** Every kept failure of every check, in check order. */
  anomalies: Finding[];
  banks: ReportedBank[];
  currencies: (Jsonified<CurrencyTotals> & { exponent: number })[];
  bankTotals: Jsonified<BankTotals>[];
  days: Jsonified<DayTotals>[];
  netPositions: Jsonified<NetPosition>[];
  rejections: RejectionCount[];
  controls: ControlChange[];
  stats: ReconcileStats;
}

/**
 * Assembles the report from an indexing run and a reconciliation.
 *
 * @example
 * const report = buildAuditReport({ deployment, index, reconciliation });
 * console.log(report.passed, report.checks.filter((check) => !check.passed));
 */
export function buildAuditReport(input: {
  deployment: AuditedDeployment;
  index: IndexSummary;
  reconciliation: Reconciliation;
}): AuditReport {
  const { deployment, index, reconciliation } = input;
  const replay = reconciliation.registry;
  const { totals, checks, stats } = reconciliation;
  return {
    generatedAt: new Date().toISOString(),
    deployment: {
      chainId: deployment.chainId,
      registry: deployment.registry,
      ledger: deployment.ledger,
      fx: deployment.fx,
    },
    indexed: {
      toBlock: index.checkpoint === undefined ? null : String(index.checkpoint.blockNumber),
      toBlockHash: index.checkpoint?.blockHash ?? null,
      events: stats.events,
      payments: stats.payments,
      crossCurrencyPayments: stats.crossCurrencyPayments,
      reorgs: index.reorgs.map((r) => ({
        forkBlock: String(r.forkBlock),
        rolledBackFrom: String(r.rolledBackFrom),
      })),
    },
    passed: reconciliation.passed,
    checks,
    anomalies: checks.flatMap((check) => check.findings),
    banks: [...replay.banks.values()]
      .sort((a, b) => a.id - b.id)
      .map((bank) => ({
        id: bank.id,
        bic: bicText(bank.bic),
        name: bank.name,
        status: BANK_STATUSES[bank.status] ?? "None",
      })),
    currencies: [...totals.currencies.values()]
      .sort((a, b) => a.currency - b.currency)
      .map((c) => ({ ...jsonify(c), exponent: replay.currencies.get(c.currency)?.exponent ?? 0 })),
    bankTotals: [...totals.banks.values()]
      .sort((a, b) => a.bank - b.bank || a.currency - b.currency)
      .map(jsonify),
    days: [...totals.days.values()]
      .sort((a, b) => a.day.localeCompare(b.day) || a.currency - b.currency)
      .map(jsonify),
    netPositions: totals.netPositions().map(jsonify),
    rejections: totals.rejections(),
    controls: totals.controls,
    stats,
  };
}

/**
 * A record with its bigints as decimal strings.
 *
 * @example
 * jsonify({ bank: 1, reserves: 10n ** 20n }); // { bank: 1, reserves: "100000000000000000000" }
 */
export function jsonify<T extends object>(value: T): Jsonified<T> {
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, typeof field === "bigint" ? field.toString() : field]),
  ) as Jsonified<T>;
}

/** A BIC from its `bytes11`, without the padding. */
function bicText(bic: Hex): string {
  return hexToString(bic).replace(/\0+$/, "");
}
