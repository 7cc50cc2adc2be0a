import { parseArgs } from "node:util";

import { createPublicClient, http, type PublicClient } from "viem";

import { auditSummary } from "../audit/auditSummary.ts";
import { runAudit } from "../audit/runAudit.ts";
import { readDeploymentFile } from "../deploy/deploymentFile.ts";

const USAGE = `Usage:
  qrsettle audit --rpc <url> --deployment <file> [--out <dir>] [--confirmations N] [--db <file>]

Rebuilds the ledger from the chain: reads every event of the deployment into a SQLite store (resuming from
its checkpoint), checks every balance, batch, refund, reserve movement, cross-currency leg and quote, payer
and quote signature, and compares the result with the contracts' state. See docs/auditor.md.

  --rpc <url>           JSON-RPC endpoint of the chain
  --deployment <file>   the deployment file qrsettle deploy writes: {chainId, registry, ledger, fx,
                        deployBlock, banks}
  --out <dir>           write audit.json, CSV tables and audit.html here
  --confirmations N     leave the newest N blocks unread until final (default 12)
  --db <file>           the store (default qrsettle-audit-<chainId>-<ledger>.sqlite)

Exit codes: 0 every check passed, 1 a check failed or the audit could not run, 2 usage error.`;

/** Where the command writes; the CLI passes process streams, tests pass collectors. */
export interface AuditCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const OPTIONS = {
  rpc: { type: "string" },
  deployment: { type: "string" },
  out: { type: "string" },
  confirmations: { type: "string" },
  db: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * `qrsettle audit`: runs the whole audit against a JSON-RPC endpoint, prints a summary on stdout and
 * progress on stderr, and returns the exit code: 0 all checks passed, 1 a check failed or the audit could
 * not run, 2 usage error.
 *
 * @example
 * process.exitCode = await runAuditCommand(
 *   ["--rpc", "http://127.0.0.1:8545", "--deployment", "deployment.json", "--out", "out/audit"],
 *   { stdout: console.log, stderr: console.error },
 * );
 */
export async function runAuditCommand(argv: string[], io: AuditCommandIo): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    io.stderr(`qrsettle audit: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const confirmations = values.confirmations ?? "12";
  if (values.rpc === undefined || values.deployment === undefined || !/^\d+$/.test(confirmations)) {
    io.stderr(
      `qrsettle audit: --rpc and --deployment are required; --confirmations takes a number\n\n${USAGE}`,
    );
    return 2;
  }
  const client = createPublicClient({
    // Settlement transactions are large; let the range sizer, not viem's 10 MB default, bound an answer.
    transport: http(values.rpc, {
      batch: { batchSize: 100 },
      timeout: 60_000,
      retryCount: 3,
      maxResponseBodySize: 256 * 1024 * 1024,
    }),
  }) as PublicClient;
  return auditWithClient(
    {
      client,
      deploymentFile: values.deployment,
      confirmations: BigInt(confirmations),
      outDir: values.out,
      dbFile: values.db,
    },
    io,
  );
}

/** Options of {@link auditWithClient}: the command's options with the endpoint already connected. */
export interface AuditWithClientOptions {
  client: PublicClient;
  deploymentFile: string;
  confirmations: bigint;
  outDir?: string;
  /** Defaults to `qrsettle-audit-<chainId>-<ledger>.sqlite` in the working directory. */
  dbFile?: string;
}

/**
 * The body of `qrsettle audit` once connected: runs the audit, prints the report files written and
 * {@link auditSummary}'s lines (every check, the first findings of a failed one with their evidence, the
 * verdict last) on stdout and progress on stderr, and returns the exit code. The Hardhat
 * task calls it with the selected network's client.
 *
 * @example
 * const code = await auditWithClient({ client, deploymentFile: "deployment.json", confirmations: 0n }, io);
 */
export async function auditWithClient(options: AuditWithClientOptions, io: AuditCommandIo): Promise<number> {
  try {
    const deployment = await readDeploymentFile(options.deploymentFile);
    const { report, files } = await runAudit({
      client: options.client,
      deployment,
      dbFile:
        options.dbFile ?? `qrsettle-audit-${deployment.chainId}-${deployment.ledger.toLowerCase()}.sqlite`,
      confirmations: options.confirmations,
      outDir: options.outDir,
      progress: (line) => {
        io.stderr(line);
      },
    });
    for (const file of files) io.stdout(`wrote ${file}`);
    for (const line of auditSummary(report, { everyCheck: true })) io.stdout(line);
    return report.passed ? 0 : 1;
  } catch (error) {
    // An AuditError says what is wrong and where; anything else (an unreachable endpoint) by its message.
    io.stderr(`qrsettle audit: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
