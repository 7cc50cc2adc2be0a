/**
 * `qrsettle demo`: runs `npm run demo` in the project (it builds, then runs scripts/demo.ts under Hardhat,
 * whose configuration provides the in-process chain), passing the exit code through. Output goes straight to
 * the terminal.
 */
import { spawn } from "node:child_process";
import path from "node:path";

const projectRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Runs the demo and resolves with its exit code (0 only if everything reconciled).
 *
 * @example
 * process.exitCode = await runDemoCommand([], io);
 */
export async function runDemoCommand(argv: string[], io: { stdout(text: string): void }): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(
      "Usage: qrsettle demo\n\nDeploys a three-bank network on an in-process Hardhat chain, starts each bank's relayer, " +
        "pays QR codes (cross-bank, same-bank, cross-currency, a refund, a rejected one and a burst), audits the chain " +
        "and exits 0 only if everything reconciles.",
    );
    return 0;
  }
  const child = spawn("npm", ["run", "--silent", "demo"], {
    cwd: projectRoot,
    stdio: "inherit",
    env: { HARDHAT_DISABLE_TELEMETRY: "true", ...process.env },
  });
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}
