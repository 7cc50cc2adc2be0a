import type { Address, PublicClient } from "viem";

import { bankRegistryAbi } from "../../protocol/generated/abi.ts";
import { BANK_STATUSES } from "../../protocol/types.ts";

/**
 * What would make the contracts refuse every batch `wallet` sends for `bankId` right now, read fresh from the
 * registry and named as the contracts' custom error (`NetworkPaused()`, `UnauthorizedRelayer(wallet)`,
 * `BankNotActive(bankId)`); undefined if nothing. The submitter asks before it blames one request for a refused
 * estimate: a node that strips revert data makes such a refusal look like one request's fault.
 *
 * @example
 * const problem = await relayingProblem(client, registry, 1, wallet); // "NetworkPaused()" while paused
 */
export async function relayingProblem(
  client: PublicClient,
  registry: Address,
  bankId: number,
  wallet: Address,
): Promise<string | undefined> {
  const registryAt = { address: registry, abi: bankRegistryAbi } as const;
  const [paused, relayerBank, status] = await Promise.all([
    client.readContract({ ...registryAt, functionName: "paused" }),
    client.readContract({ ...registryAt, functionName: "relayerBank", args: [wallet] }),
    client.readContract({ ...registryAt, functionName: "bankStatus", args: [bankId] }),
  ]);
  if (paused) return "NetworkPaused()";
  if (relayerBank !== bankId) return `UnauthorizedRelayer(${wallet})`;
  if (BANK_STATUSES[status] !== "Active") return `BankNotActive(${bankId})`;
  return undefined;
}
