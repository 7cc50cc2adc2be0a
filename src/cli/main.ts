/**
 * The `qrsettle` command line. Subcommands live in their own modules; this file only dispatches and owns the
 * exit-code contract: 0 success, 1 failure (invalid input, failed check), 2 usage error.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

/** Where a command writes; injected so commands are testable without a process. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A subcommand: runs with its own arguments and returns the process exit code. */
export type Command = (argv: string[], io: CommandIO) => Promise<number>;

/** Exit codes every subcommand uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  qr: {
    summary: "encode, decode and render EMV merchant-presented QR codes (`qrsettle qr --help`)",
    load: async () => (await import("./qr.ts")).runQrCommand,
  },
  relayer: {
    summary: "run a bank's relayer and manage its keys and configuration (`qrsettle relayer --help`)",
    load: async () => (await import("./relayer.ts")).runRelayerCommand,
  },
  audit: {
    summary: "rebuild the ledger from the chain and check everything (`qrsettle audit --help`)",
    load: async () => (await import("./audit.ts")).runAuditCommand,
  },
  demo: {
    summary: "run the end-to-end demo on an in-process chain (same as `npm run demo`)",
    load: async () => (await import("./demo.ts")).runDemoCommand,
  },
};

const usage = (): string =>
  [
    "Usage: qrsettle <command> [options]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`),
    "  version    print the version",
    "  help       print this help",
  ].join("\n");

/**
 * Runs the CLI with `argv` (without the node and script paths) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), { stdout: console.log, stderr: console.error });
 */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "version" || name === "--version") {
    const pkg = JSON.parse(
      await readFile(path.resolve(import.meta.dirname, "../../package.json"), "utf8"),
    ) as { version: string };
    io.stdout(pkg.version);
    return EXIT.ok;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`qrsettle: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  return (await command.load())(rest, io);
}
