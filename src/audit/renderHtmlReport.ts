import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import type { AuditReport } from "./auditReport.ts";

/**
 * The report as one self-contained HTML page for people: verdict, every check, anomalies with their
 * evidence, daily volumes and net positions between banks as inline SVG charts, and the tables behind
 * them. No scripts, fonts or images from anywhere else: it opens offline and can be archived as is.
 *
 * @example
 * await writeFile("audit.html", renderHtmlReport(report));
 */
export function renderHtmlReport(report: AuditReport): string {
  const exponents = new Map(report.currencies.map((c) => [c.currency, c.exponent]));
  const money = (units: string | bigint, currency: number): string =>
    formatUnits(BigInt(units), exponents.get(currency) ?? 0);
  const bankName = new Map(report.banks.map((b) => [b.id, `${b.name} (${b.bic})`]));
  const bank = (id: number): string => bankName.get(id) ?? `bank ${id}`;
  const failed = report.checks.filter((check) => !check.passed);

  const sections = [
    `<h1>QRSettle ledger audit</h1>
     <p class="verdict ${report.passed ? "pass" : "fail"}">${
       report.passed
         ? "Every check passed."
         : `${failed.length} check${failed.length === 1 ? "" : "s"} failed: ${failed.map((c) => c.id).join(", ")}.`
     }</p>
     <dl>
       <dt>Chain</dt><dd>${report.deployment.chainId}</dd>
       <dt>Registry</dt><dd><code>${report.deployment.registry}</code></dd>
       <dt>Ledger</dt><dd><code>${report.deployment.ledger}</code></dd>
       <dt>FX module</dt><dd><code>${report.deployment.fx}</code></dd>
       <dt>Up to block</dt><dd>${report.indexed.toBlock ?? "none confirmed yet"} <code>${report.indexed.toBlockHash ?? ""}</code></dd>
       <dt>Events</dt><dd>${report.indexed.events.toLocaleString("en")} (${report.indexed.payments.toLocaleString("en")} settled payments)</dd>
       <dt>Generated</dt><dd>${report.generatedAt}</dd>
     </dl>`,
    section(
      "Checks",
      table(
        ["", "check", "examined", "failures", "what it establishes"],
        report.checks.map((c) => [
          `<span class="${c.passed ? "pass" : "fail"}">${c.passed ? "✔" : "✘"}</span>`,
          `<code>${c.id}</code>`,
          c.examined.toLocaleString("en"),
          String(c.failures),
          escape(c.description),
        ]),
      ),
    ),
    report.anomalies.length === 0
      ? ""
      : section(
          "Anomalies",
          table(
            ["check", "what", "block", "transaction", "log", "details"],
            report.anomalies.map((f) => [
              `<code>${f.check}</code>`,
              escape(f.message),
              String(f.evidence?.blockNumber ?? ""),
              `<code>${f.evidence?.transactionHash ?? ""}</code>`,
              String(f.evidence?.logIndex ?? ""),
              escape(
                Object.entries(f.details ?? {})
                  .map(([k, v]) => `${k}: ${v}`)
                  .join("; "),
              ),
            ]),
          ),
        ),
    ...report.currencies.map((c) =>
      section(
        `Daily volume, ${currencyName(c.currency)}`,
        volumeChart(
          report.days.filter((d) => d.currency === c.currency),
          (units) => money(units, c.currency),
        ),
      ),
    ),
    ...report.currencies.map((c) =>
      section(
        `Net positions between banks, ${currencyName(c.currency)}`,
        netPositionChart(
          report.netPositions.filter((p) => p.currency === c.currency),
          bank,
          (units) => money(units, c.currency),
        ),
      ),
    ),
    section(
      "Per currency",
      table(
        [
          "currency",
          "payments",
          "amount",
          "cross-bank",
          "refunds",
          "refunded",
          "skipped",
          "reserves issued − redeemed",
          "deposits issued − redeemed",
          "forced moves",
          "cross-currency payments",
          "paid in it",
          "received in it",
        ],
        report.currencies.map((c) => [
          currencyName(c.currency),
          String(c.payments),
          money(c.paymentAmount, c.currency),
          money(c.crossBankAmount, c.currency),
          String(c.refunds),
          money(c.refundAmount, c.currency),
          String(c.rejectedPayments),
          money(BigInt(c.reservesIssued) - BigInt(c.reservesRedeemed), c.currency),
          money(BigInt(c.depositsIssued) - BigInt(c.depositsRedeemed), c.currency),
          `${c.forcedTransfers} (${money(c.forcedAmount, c.currency)})`,
          String(c.fxPayments),
          money(c.fxPaidAmount, c.currency),
          money(c.fxReceivedAmount, c.currency),
        ]),
      ),
    ),
    section(
      "Per bank",
      table(
        [
          "bank",
          "currency",
          "sent",
          "received",
          "refunds paid",
          "refunds received",
          "skipped",
          "reserves settled out",
          "in",
          "cross-currency sent",
          "received",
          "as FX provider: in",
          "out",
        ],
        report.bankTotals.map((b) => [
          escape(bank(b.bank)),
          currencyName(b.currency),
          `${b.paymentsSent} · ${money(b.amountSent, b.currency)}`,
          `${b.paymentsReceived} · ${money(b.amountReceived, b.currency)}`,
          money(b.refundsPaid, b.currency),
          money(b.refundsReceived, b.currency),
          String(b.rejectedPayments),
          money(b.settledOut, b.currency),
          money(b.settledIn, b.currency),
          money(b.fxSent, b.currency),
          money(b.fxReceived, b.currency),
          money(b.fxProviderIn, b.currency),
          money(b.fxProviderOut, b.currency),
        ]),
      ),
    ),
    section(
      "Per day",
      table(
        [
          "day",
          "currency",
          "payments",
          "amount",
          "cross-bank",
          "refunds",
          "refunded",
          "skipped",
          "cross-currency",
          "paid in it",
          "received in it",
        ],
        report.days.map((d) => [
          d.day,
          currencyName(d.currency),
          String(d.payments),
          money(d.paymentAmount, d.currency),
          money(d.crossBankAmount, d.currency),
          String(d.refunds),
          money(d.refundAmount, d.currency),
          String(d.rejectedPayments),
          String(d.fxPayments),
          money(d.fxPaidAmount, d.currency),
          money(d.fxReceivedAmount, d.currency),
        ]),
      ),
    ),
    section(
      "Skipped items by reason",
      table(
        ["kind", "reason", "count"],
        report.rejections.map((r) => [r.kind, r.reason, String(r.count)]),
      ),
    ),
    section(
      "Role, cap, freeze and status changes, in order",
      table(
        ["time (UTC)", "block", "event", "details", "transaction"],
        report.controls.map((c) => [
          new Date(c.timestamp * 1000).toISOString().replace("T", " ").slice(0, 19),
          String(c.blockNumber),
          c.event,
          escape(c.summary),
          `<code>${c.transactionHash}</code>`,
        ]),
      ),
    ),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>QRSettle audit, chain ${report.deployment.chainId}, block ${report.indexed.toBlock}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1d2433; padding: 0 1rem; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d8dce5; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef3; vertical-align: top; }
  th { background: #f4f6fa; } code { font-size: 12px; word-break: break-all; }
  .pass { color: #1a7f37; } .fail { color: #c62828; }
  .verdict { font-size: 1.2rem; font-weight: 600; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: #5b6478; }
  svg text { font: 11px system-ui, sans-serif; fill: #1d2433; }
</style>
</head>
<body>
${sections.filter((s) => s !== "").join("\n")}
</body>
</html>
`;
}

/** Daily payment amounts as bars, refunds as a line of dots above each day. */
function volumeChart(days: AuditReport["days"], money: (units: bigint) => string): string {
  if (days.length === 0) return "<p>No payments.</p>";
  const width = 1100;
  const height = 260;
  const left = 90;
  const bottom = 40;
  const plotWidth = width - left - 10;
  const plotHeight = height - bottom - 20;
  const max = days.reduce((m, d) => (BigInt(d.paymentAmount) > m ? BigInt(d.paymentAmount) : m), 1n);
  const barWidth = plotWidth / days.length;
  const y = (units: bigint): number => 20 + plotHeight - Number((units * 1000n) / max) * (plotHeight / 1000);
  const labelEvery = Math.ceil(days.length / 12);
  const bars = days
    .map((d, i) => {
      const x = left + i * barWidth;
      const top = y(BigInt(d.paymentAmount));
      const crossTop = y(BigInt(d.crossBankAmount));
      const label =
        i % labelEvery === 0
          ? `<text x="${x + barWidth / 2}" y="${height - bottom + 14}" text-anchor="middle">${d.day.slice(5)}</text>`
          : "";
      return `<g><title>${d.day}: ${d.payments} payments, ${money(BigInt(d.paymentAmount))} (cross-bank ${money(BigInt(d.crossBankAmount))})</title>
<rect x="${x + 1}" y="${top}" width="${Math.max(barWidth - 2, 1)}" height="${20 + plotHeight - top}" fill="#9db7e8"/>
<rect x="${x + 1}" y="${crossTop}" width="${Math.max(barWidth - 2, 1)}" height="${20 + plotHeight - crossTop}" fill="#2f5fb3"/></g>${label}`;
    })
    .join("\n");
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="daily payment volume">
<line x1="${left}" y1="${20 + plotHeight}" x2="${width - 10}" y2="${20 + plotHeight}" stroke="#5b6478"/>
<text x="${left - 6}" y="24" text-anchor="end">${money(max)}</text>
<text x="${left - 6}" y="${20 + plotHeight}" text-anchor="end">0</text>
${bars}
<rect x="${left}" y="${height - 14}" width="10" height="10" fill="#9db7e8"/><text x="${left + 14}" y="${height - 5}">same bank</text>
<rect x="${left + 100}" y="${height - 14}" width="10" height="10" fill="#2f5fb3"/><text x="${left + 114}" y="${height - 5}">cross-bank</text>
</svg>`;
}

/** One diverging bar per bank pair: to the right when the first bank paid the second more, else left. */
function netPositionChart(
  pairs: AuditReport["netPositions"],
  bank: (id: number) => string,
  money: (units: bigint) => string,
): string {
  if (pairs.length === 0) return "<p>No reserves moved between banks.</p>";
  const width = 1100;
  const rowHeight = 26;
  const labelWidth = 420;
  const middle = labelWidth + (width - labelWidth) / 2;
  const half = (width - labelWidth) / 2 - 90;
  const max = pairs.reduce((m, p) => {
    const net = BigInt(p.net) < 0n ? -BigInt(p.net) : BigInt(p.net);
    return net > m ? net : m;
  }, 1n);
  const rows = pairs
    .map((p, i) => {
      const net = BigInt(p.net);
      const length = (Number(((net < 0n ? -net : net) * 1000n) / max) / 1000) * half;
      const x = net < 0n ? middle - length : middle;
      const yTop = 10 + i * rowHeight;
      const owes = net >= 0n ? `${bank(p.bankA)} → ${bank(p.bankB)}` : `${bank(p.bankB)} → ${bank(p.bankA)}`;
      const valueX = net < 0n ? x - 4 : x + length + 4;
      return `<g><title>${escape(owes)}: net ${money(net < 0n ? -net : net)} (${money(BigInt(p.aToB))} one way, ${money(BigInt(p.bToA))} the other)</title>
<text x="0" y="${yTop + 16}">${escape(`${bank(p.bankA)} ⇄ ${bank(p.bankB)}`)}</text>
<rect x="${x}" y="${yTop + 4}" width="${Math.max(length, 1)}" height="${rowHeight - 8}" fill="${net < 0n ? "#c9773c" : "#2f5fb3"}"/>
<text x="${valueX}" y="${yTop + 16}" text-anchor="${net < 0n ? "end" : "start"}">${money(net < 0n ? -net : net)}</text></g>`;
    })
    .join("\n");
  const height = 20 + pairs.length * rowHeight;
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="net positions between banks">
<line x1="${middle}" y1="4" x2="${middle}" y2="${height - 4}" stroke="#5b6478"/>
${rows}
</svg>
<p>Bars to the right: the first bank of the pair paid the second more than it received; to the left, the reverse.</p>`;
}

function section(title: string, body: string): string {
  return `<section><h2>${escape(title)}</h2>\n${body}\n</section>`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "<p>None.</p>";
  return `<table><thead><tr>${header.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>
${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>`;
}

function currencyName(numeric: number): string {
  return getCurrencyByNumeric(numeric)?.alpha ?? String(numeric);
}

/** Minor units as a decimal string with thousands separators, e.g. 123456789n, 2 → "1,234,567.89". */
function formatUnits(units: bigint, exponent: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = exponent === 0 ? "" : `.${digits.slice(-exponent)}`;
  return `${negative ? "−" : ""}${whole}${fraction}`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
