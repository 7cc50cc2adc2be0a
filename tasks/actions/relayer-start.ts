import { runRelayerCommand } from "../../src/cli/relayer.ts";

interface RelayerStartArguments {
  relayerConfig: string;
}

/**
 * `qrsettle relayer start`: the same as `qrsettle relayer start --config <file>`: runs a bank's relayer until
 * SIGINT or SIGTERM, then drains. The chain is the configuration's `chain.rpcUrl`, not `--network`.
 */
export default async function relayerStartAction(args: RelayerStartArguments) {
  process.exitCode = await runRelayerCommand(["start", "--config", args.relayerConfig], {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  });
}
