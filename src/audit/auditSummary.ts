import type { AuditReport } from "./auditReport.ts";

/** Options of {@link auditSummary}. */
export interface AuditSummaryOptions {
  /** One line per check, passed or not (as `qrsettle audit` prints); otherwise only the failed checks. */
  everyCheck?: boolean;
  /** Findings printed under each failed check, with their evidence. */
  findingsPerCheck?: number;
}

/**
 * The lines a person reads after an audit: what was read, the checks (every one, or only the failed ones),
 * the first findings of each failed check with block, transaction and log, and the verdict last
 * (`audit passed` or `audit FAILED`).
 *
 * @example
 * const { report } = await runAudit({ client, deployment, dbFile, confirmations: 0n });
 * for (const line of auditSummary(report)) console.log(`  ${line}`);
 */
export function auditSummary(report: AuditReport, options: AuditSummaryOptions = {}): string[] {
  const { everyCheck = false, findingsPerCheck = 5 } = options;
  const { indexed } = report;
  const failed = report.checks.filter((check) => !check.passed);
  const lines = [
    `read ${indexed.events.toLocaleString("en")} events up to block ${indexed.toBlock ?? "(none confirmed yet)"}: ` +
      `${indexed.payments.toLocaleString("en")} settled payments, ${indexed.crossCurrencyPayments.toLocaleString("en")} of them cross-currency; ` +
      `${report.checks.length - failed.length} of ${report.checks.length} checks passed`,
  ];
  for (const check of everyCheck ? report.checks : failed) {
    lines.push(
      `${check.passed ? "✔" : "✘"} ${check.id.padEnd(22)} ${String(check.examined).padStart(9)} examined` +
        (check.passed ? "" : `, ${check.failures} failed`),
    );
    for (const finding of check.findings.slice(0, findingsPerCheck)) {
      const at = finding.evidence;
      const where =
        at === undefined
          ? ""
          : ` (block ${at.blockNumber}, tx ${at.transactionHash}${at.logIndex === undefined ? "" : `, log ${at.logIndex}`})`;
      lines.push(`    ${finding.message}${where}`);
    }
  }
  lines.push(report.passed ? "audit passed" : "audit FAILED");
  return lines;
}
