import { tmpdir } from "node:os";
import path from "node:path";

import type { PublicClient } from "viem";

import { buildAuditReport, type AuditReport } from "./auditReport.ts";
import type { AuditedDeployment } from "./verifyDeployment.ts";
import { indexDeployment, type IndexProgress, type IndexSummary } from "./indexer.ts";
import { reconcile } from "./reconcile.ts";
import { openAuditStore } from "./store.ts";
import { verifyDeployment } from "./verifyDeployment.ts";
import { writeReports } from "./writeReports.ts";

/** Options of {@link runAudit}. */
export interface RunAuditOptions {
  client: PublicClient;
  deployment: AuditedDeployment;
  /** The SQLite store: created on the first run, resumed on later ones. */
  dbFile: string;
  /** Blocks below the head left unread until they are this deep. */
  confirmations: bigint;
  /** Where to write the JSON, CSV and HTML reports; none written when absent. */
  outDir?: string;
  /** Progress lines for people (the CLI sends them to stderr). */
  progress?: (line: string) => void;
  /** Worker threads for signature recovery; one per core by default. */
  workers?: number;
}

/** What an audit run produced. */
export interface AuditOutcome {
  report: AuditReport;
  index: IndexSummary;
  /** Report files written, if `outDir` was given. */
  files: string[];
}

/**
 * The whole audit: checks the deployment file against the chain, brings the store up to
 * `head − confirmations`, reconciles every event and compares with the contracts' state, and writes the
 * reports. `report.passed` is false when any check failed.
 *
 * @throws {AuditError} when the audit cannot run (see its codes); failed checks are in the report instead.
 * @example
 * const { report } = await runAudit({ client, deployment, dbFile: "audit.sqlite", confirmations: 12n, outDir: "out" });
 * process.exitCode = report.passed ? 0 : 1;
 */
export async function runAudit(options: RunAuditOptions): Promise<AuditOutcome> {
  const { client, deployment, progress } = options;
  await verifyDeployment(client, deployment);
  const store = openAuditStore(options.dbFile, deployment);
  try {
    const started = performance.now();
    const index = await indexDeployment({
      client,
      store,
      deployment,
      confirmations: options.confirmations,
      onProgress: (event) => progress?.(describeProgress(event)),
    });
    const fetchSeconds = (performance.now() - started) / 1000;
    progress?.(
      `indexed to block ${index.checkpoint?.blockNumber ?? "(none confirmed yet)"}: ${index.logsAdded} new events in ${fetchSeconds.toFixed(1)} s`,
    );
    const reconcileStarted = performance.now();
    const reconciliation = await reconcile({
      client,
      store,
      deployment,
      checkpoint: index.checkpoint,
      scratchFile: path.join(tmpdir(), `qrsettle-audit-${process.pid}-${Date.now()}.sqlite`),
      workers: options.workers,
      onProgress: (events) => {
        const seconds = (performance.now() - reconcileStarted) / 1000;
        progress?.(`reconciled ${events.toLocaleString("en")} events (${Math.round(events / seconds)}/s)`);
      },
    });
    const report = buildAuditReport({ deployment, index, reconciliation });
    const files = options.outDir === undefined ? [] : await writeReports(report, options.outDir);
    return { report, index, files };
  } finally {
    store.close();
  }
}

function describeProgress(event: IndexProgress): string {
  switch (event.kind) {
    case "start":
      return event.fromBlock > event.toBlock
        ? `store is up to date (next block ${event.fromBlock}, confirmed head ${event.toBlock})`
        : `indexing blocks ${event.fromBlock}–${event.toBlock}`;
    case "range":
      return `blocks ${event.fromBlock}–${event.toBlock} of ${event.target}: ${event.logs} events (${event.totalLogs} stored)`;
    case "retry":
      return `blocks ${event.fromBlock}–${event.toBlock} failed (attempt ${event.attempt}, retrying smaller): ${event.error}`;
    case "reorg":
      return `reorg: blocks above ${event.forkBlock} (up to ${event.rolledBackFrom}) were replaced; their events were undone`;
  }
}
