import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { createPublicClient, http, type PublicClient } from "viem";

import { auditWithClient } from "../src/cli/audit.ts";
import { defaultDeploymentFile } from "./context.ts";

/** Arguments of the `qrsettle audit` task; empty strings mean "not given". */
interface AuditTaskArguments {
  deployment: string;
  out: string;
  confirmations: number;
  db: string;
  rpc: string;
}

/**
 * The `qrsettle audit` task's action: connects to `--rpc` or to the selected network and runs
 * `qrsettle audit`'s body, printing as the CLI does. Sets a non-zero exit code when a check fails.
 *
 * @example
 * // npx hardhat qrsettle audit --network localhost --confirmations 0
 */
export default async function auditAction(
  args: AuditTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  if (args.deployment === "" && args.rpc !== "") {
    throw new Error("qrsettle audit: --rpc needs --deployment <file>");
  }
  const connection = args.rpc === "" ? await hre.network.create() : undefined;
  const client =
    connection === undefined
      ? (createPublicClient({ transport: http(args.rpc, { batch: { batchSize: 100 } }) }) as PublicClient)
      : ((await connection.viem.getPublicClient()) as unknown as PublicClient);
  try {
    const code = await auditWithClient(
      {
        client,
        deploymentFile:
          args.deployment === "" && connection !== undefined
            ? defaultDeploymentFile(connection.networkName)
            : args.deployment,
        confirmations: BigInt(args.confirmations),
        outDir: args.out === "" ? undefined : args.out,
        dbFile: args.db === "" ? undefined : args.db,
      },
      {
        stdout: (line) => {
          console.log(line);
        },
        stderr: (line) => {
          console.error(line);
        },
      },
    );
    if (code !== 0) process.exitCode = code;
  } finally {
    await connection?.close();
  }
}
