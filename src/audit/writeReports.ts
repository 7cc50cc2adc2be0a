import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { AuditReport } from "./auditReport.ts";
import { renderHtmlReport } from "./renderHtmlReport.ts";

/**
 * Writes the report in every format into `outDir`: `audit.json` (everything), one CSV per table
 * (`checks`, `anomalies`, `days`, `currencies`, `banks`, `net-positions`, `rejections`, `controls`) and
 * `audit.html`, self-contained with inline SVG charts.
 *
 * @returns the paths written.
 * @example
 * const files = await writeReports(report, "out/audit");
 */
export async function writeReports(report: AuditReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: [string, string][] = [
    ["audit.json", `${JSON.stringify(report, null, 2)}\n`],
    [
      "checks.csv",
      toCsv(
        ["check", "passed", "examined", "failures", "description"],
        report.checks.map((c) => [c.id, c.passed, c.examined, c.failures, c.description]),
      ),
    ],
    [
      "anomalies.csv",
      toCsv(
        ["check", "message", "block", "transaction", "logIndex", "details"],
        report.anomalies.map((f) => [
          f.check,
          f.message,
          f.evidence?.blockNumber,
          f.evidence?.transactionHash,
          f.evidence?.logIndex,
          Object.entries(f.details ?? {})
            .map(([key, value]) => `${key}=${value}`)
            .join("; "),
        ]),
      ),
    ],
    ["days.csv", tableCsv(report.days)],
    ["currencies.csv", tableCsv(report.currencies)],
    ["banks.csv", tableCsv(report.bankTotals)],
    ["net-positions.csv", tableCsv(report.netPositions)],
    ["rejections.csv", tableCsv(report.rejections)],
    ["controls.csv", tableCsv(report.controls)],
    ["audit.html", renderHtmlReport(report)],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(outDir, name);
    await writeFile(file, content);
    written.push(file);
  }
  return written;
}

/** RFC 4180 CSV of records that share their keys; the first record's keys are the header. */
function tableCsv(rows: readonly object[]): string {
  const header = Object.keys(rows[0] ?? {});
  return toCsv(
    header,
    rows.map((row) => header.map((key) => (row as Record<string, unknown>)[key])),
  );
}

function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown): string => {
    const text =
      value === undefined || value === null
        ? ""
        : typeof value === "string"
          ? value
          : typeof value === "number" || typeof value === "bigint" || typeof value === "boolean"
            ? value.toString()
            : JSON.stringify(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\n") + "\n";
}
