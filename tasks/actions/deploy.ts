import { existsSync } from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address, PublicClient } from "viem";

import QRSettleModule from "../../ignition/modules/QRSettle.ts";
import { configureNetwork } from "../../src/deploy/configure.ts";
import { readDeploymentFile, writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import type { Deployment, Signer } from "../../src/deploy/network.ts";
import { readNetworkFile } from "../../src/deploy/networkFile.ts";
import { numberedDetails, QRSettleError } from "../../src/protocol/errors.ts";
import { defaultDeploymentFile, report, runTask } from "../context.ts";

/** Arguments of `qrsettle deploy` and `qrsettle configure`. */
export interface DeployArguments {
  networkFile: string;
  deployment: string;
  json: boolean;
}

/**
 * `qrsettle deploy`: deploys the contracts with Ignition unless the deployment file already names live
 * contracts, then brings the chain to the network file's state, changing only what differs.
 */
export default async function deployAction(args: DeployArguments, hre: HardhatRuntimeEnvironment) {
  return deployOrConfigure(args, hre, false);
}

/** Deploys unless `configureOnly` or already deployed, then configures. */
export async function deployOrConfigure(
  args: DeployArguments,
  hre: HardhatRuntimeEnvironment,
  configureOnly: boolean,
) {
  return runTask(async () => {
    const spec = await readNetworkFile(args.networkFile);
    const connection = await hre.network.getOrCreate();
    const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
    const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
    const signerFor = (address: Address) =>
      signers.find((s) => s.account.address.toLowerCase() === address.toLowerCase());
    const file = args.deployment || defaultDeploymentFile(connection.networkName);
    const progress = (line: string) => {
      if (!args.json) console.log(line);
    };

    let deployment: Deployment;
    let deployed = false;
    if (existsSync(file) && (await isLive(publicClient, await readDeploymentFile(file)))) {
      deployment = await readDeploymentFile(file);
      progress(`Using the deployment in ${file}: ledger ${deployment.ledger}`);
    } else if (configureOnly) {
      throw new QRSettleError(
        "DEPLOYMENT_MISSING",
        "No live deployment to configure; run `qrsettle deploy` first.",
        {
          details: { file },
        },
      );
    } else {
      progress(`Deploying to ${connection.networkName} with Ignition (governor ${spec.governor})`);
      const startBlock = await publicClient.getBlockNumber();
      // Ignition journals a deployment under its id and resumes it on the next run. Naming the id after the
      // chain's genesis block keeps two local nodes that share chain id 31337 from sharing a journal.
      const genesis = await publicClient.getBlock({ blockNumber: 0n });
      const deploymentId = `qrsettle-${String(await publicClient.getChainId())}-${genesis.hash.slice(2, 10)}`;
      const { registry, ledger, fx } = await connection.ignition.deploy(QRSettleModule, {
        parameters: { QRSettle: { governor: spec.governor, adminTransferDelay: spec.adminTransferDelay } },
        defaultSender: spec.governor,
        deploymentId,
        displayUi: false,
      });
      const registryAddress = (await registry.getAddress()) as Address;
      deployment = {
        chainId: await publicClient.getChainId(),
        registry: registryAddress,
        ledger: (await ledger.getAddress()) as Address,
        fx: (await fx.getAddress()) as Address,
        deployBlock: await findDeployBlock(publicClient, registryAddress, startBlock),
        banks: {},
      };
      deployed = true;
      progress(
        `  BankRegistry      ${deployment.registry}\n  SettlementLedger  ${deployment.ledger}\n  FxSettlement      ${deployment.fx}`,
      );
    }

    progress(`Configuring from ${args.networkFile}`);
    const result = await configureNetwork(publicClient, signerFor, deployment, spec, progress);
    await writeDeploymentFile(file, result.deployment);
    const summary = `${result.applied.length} changed, ${result.unchanged} already as specified, ${result.pending.length} pending`;
    report(
      args.json,
      {
        deployed,
        deploymentFile: file,
        ...result.deployment,
        applied: result.applied,
        pending: result.pending,
        unchanged: result.unchanged,
      },
      `${result.applied.length === 0 && !deployed ? "Nothing to change: the chain already matches the network file." : "Done."} ${summary}.\nDeployment written to ${file}.`,
    );
    if (result.pending.length > 0) {
      throw new QRSettleError(
        "CONFIGURE_INCOMPLETE",
        "Some changes need keys this network's accounts do not hold.",
        {
          details: numberedDetails(
            "Pending",
            result.pending.map((p) => `${p.change} (key of ${p.signer})`),
          ),
        },
      );
    }
  });
}

/** Whether both contracts of a deployment have code on this chain. */
async function isLive(publicClient: PublicClient, deployment: Deployment): Promise<boolean> {
  if ((await publicClient.getChainId()) !== deployment.chainId) return false;
  const codes = await Promise.all(
    [deployment.registry, deployment.ledger, deployment.fx].map((address) =>
      publicClient.getCode({ address }),
    ),
  );
  return codes.every((code) => code !== undefined && code !== "0x");
}

/**
 * The registry's deployment block: the block of its first event (the constructor grants the default admin
 * role). A fresh deployment lies after `since`, so only that short range is read; a deployment Ignition
 * reused from its journal is found by reading back from there.
 */
async function findDeployBlock(
  publicClient: PublicClient,
  registry: Address,
  since: bigint,
): Promise<bigint> {
  const [first] = await publicClient.getLogs({ address: registry, fromBlock: since, toBlock: "latest" });
  if (first?.blockNumber != null) return first.blockNumber;
  const window = 10_000n;
  let earliest: bigint | undefined;
  for (let to = since; ;) {
    const from = to > window ? to - window : 0n;
    const [log] = await publicClient.getLogs({ address: registry, fromBlock: from, toBlock: to });
    if (log?.blockNumber != null) earliest = log.blockNumber;
    // Quiet stretches can be long, so keep reading back to genesis; this runs once per reused deployment.
    if (from === 0n) return earliest ?? 0n;
    to = from - 1n;
  }
}
