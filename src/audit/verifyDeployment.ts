import { hashDomain, type Address, type Hex, type PublicClient } from "viem";

import type { Deployment } from "../deploy/network.ts";
import { EIP712_DOMAIN_TYPES, ledgerDomain } from "../protocol/eip712.ts";
import { fxSettlementAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { AuditError } from "./errors.ts";

/**
 * What the auditor needs to know about a deployment: the deployer's {@link Deployment} (as
 * `readDeploymentFile` in `src/deploy/deploymentFile.ts` reads it from the file `qrsettle deploy` writes),
 * where `deployBlock` may be left out by programmatic callers and `banks` is not needed.
 */
export type AuditedDeployment = Pick<Deployment, "chainId" | "registry" | "ledger" | "fx"> & {
  /** First block to read; found on the chain when absent. */
  deployBlock?: bigint;
};

/**
 * Checks that the endpoint serves the deployment the file describes: the same chain id, contract code at
 * all three addresses, a ledger bound to that registry, an FX module bound to both, and the EIP-712 domains
 * the auditor will re-verify signatures with (so a wrong chain id or address can never make signatures look
 * valid or invalid).
 *
 * @throws {AuditError} `AUDIT_DEPLOYMENT_MISMATCH` naming what differs.
 * @example
 * await verifyDeployment(client, await readDeploymentFile("deployment.json"));
 */
export async function verifyDeployment(client: PublicClient, deployment: AuditedDeployment): Promise<void> {
  const mismatch = (what: string, details: Record<string, string | number | bigint>): AuditError =>
    new AuditError("AUDIT_DEPLOYMENT_MISMATCH", `The deployment file does not match the chain: ${what}.`, {
      details,
    });
  const chainId = await client.getChainId();
  if (chainId !== deployment.chainId) {
    throw mismatch("another chain id", { file: deployment.chainId, endpoint: chainId });
  }
  for (const [name, address] of [
    ["registry", deployment.registry],
    ["ledger", deployment.ledger],
    ["fx", deployment.fx],
  ] as const) {
    const code = await client.getCode({ address });
    if (code === undefined || code === "0x")
      throw mismatch(`no contract at the ${name} address`, { address });
  }
  const read = { address: deployment.ledger, abi: settlementLedgerAbi } as const;
  let registry: string;
  let separator: Hex;
  try {
    registry = await client.readContract({ ...read, functionName: "registry" });
    separator = await client.readContract({ ...read, functionName: "domainSeparator" });
  } catch (cause) {
    throw new AuditError("AUDIT_DEPLOYMENT_MISMATCH", "The ledger address holds no QRSettle ledger.", {
      details: { ledger: deployment.ledger },
      cause,
    });
  }
  if (registry.toLowerCase() !== deployment.registry.toLowerCase()) {
    throw mismatch("the ledger uses another registry", { file: deployment.registry, ledger: registry });
  }
  const expected = hashDomain({
    domain: ledgerDomain(deployment.chainId, deployment.ledger),
    types: EIP712_DOMAIN_TYPES,
  });
  if (separator !== expected) {
    throw mismatch("the ledger's EIP-712 domain differs", { expected, ledger: separator });
  }
  await verifyFxModule(client, deployment, mismatch);
}

/** The FX module must settle on this ledger and registry; its own domain is what quotes are signed under. */
async function verifyFxModule(
  client: PublicClient,
  deployment: AuditedDeployment,
  mismatch: (what: string, details: Record<string, string | number | bigint>) => AuditError,
): Promise<void> {
  const read = { address: deployment.fx, abi: fxSettlementAbi } as const;
  let ledger: Address;
  let registry: Address;
  try {
    [ledger, registry] = await Promise.all([
      client.readContract({ ...read, functionName: "ledger" }),
      client.readContract({ ...read, functionName: "registry" }),
    ]);
  } catch (cause) {
    throw new AuditError("AUDIT_DEPLOYMENT_MISMATCH", "The fx address holds no QRSettle FX module.", {
      details: { fx: deployment.fx },
      cause,
    });
  }
  if (ledger.toLowerCase() !== deployment.ledger.toLowerCase()) {
    throw mismatch("the FX module settles on another ledger", { file: deployment.ledger, fx: ledger });
  }
  if (registry.toLowerCase() !== deployment.registry.toLowerCase()) {
    throw mismatch("the FX module uses another registry", { file: deployment.registry, fx: registry });
  }
}

/**
 * The block to start indexing from: the file's `deployBlock`, checked to be no later than the registry's
 * deployment (a later one would silently skip events), or else the registry's deployment block found on
 * the chain. A node that cannot answer for old blocks (pruned) makes it trust the file, or start at genesis.
 *
 * @throws {AuditError} `AUDIT_DEPLOYMENT_MISMATCH` when `deployBlock` is after the registry's deployment.
 * @example
 * const from = await firstBlockToIndex(client, deployment, await client.getBlockNumber());
 */
export async function firstBlockToIndex(
  client: PublicClient,
  deployment: AuditedDeployment,
  head: bigint,
): Promise<bigint> {
  const { deployBlock, registry } = deployment;
  try {
    // The registry is deployed first: the ledger's constructor needs its address.
    const deployedAt = await findDeployBlock(client, registry, head);
    if (deployBlock !== undefined && deployBlock > deployedAt) {
      throw new AuditError(
        "AUDIT_DEPLOYMENT_MISMATCH",
        "The deployment file's deployBlock is after the registry was deployed; earlier events would be missed.",
        { details: { deployBlock, registryDeployedAt: deployedAt } },
      );
    }
    return deployBlock ?? deployedAt;
  } catch (error) {
    if (error instanceof AuditError) throw error;
    // A pruned node cannot answer for old blocks: trust the file, or read from genesis (slower, complete).
    return deployBlock ?? 0n;
  }
}

/**
 * The block the deployment's first contract appeared in, by binary search over `eth_getCode` at past
 * blocks. Needs an archive node; callers fall back to block 0 when the node cannot answer.
 *
 * @example
 * const from = await findDeployBlock(client, deployment.registry, await client.getBlockNumber());
 */
export async function findDeployBlock(client: PublicClient, address: Hex, head: bigint): Promise<bigint> {
  const hasCode = async (blockNumber: bigint): Promise<boolean> => {
    const code = await client.getCode({ address, blockNumber });
    return code !== undefined && code !== "0x";
  };
  let low = 0n;
  let high = head;
  while (low < high) {
    const middle = (low + high) / 2n;
    if (await hasCode(middle)) high = middle;
    else low = middle + 1n;
  }
  return low;
}
