/**
 * The relayer as a process: `node src/relayer/main.ts --config relayer.json` (the same as
 * `qrsettle relayer start --config relayer.json`). Exits 0 after a graceful shutdown on SIGTERM or SIGINT.
 */
import { runRelayerCommand } from "../cli/relayer.ts";

process.exitCode = await runRelayerCommand(["start", ...process.argv.slice(2)], {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
});
