import { readFile } from "node:fs/promises";

import type { Address, Hex, PublicClient } from "viem";

import type { Signer } from "../../src/deploy/network.ts";

/**
 * Deploys the ERC-1271 test wallet (`test/contracts/utils/MockWallets.sol`): it accepts a digest signed by
 * `owner`'s key. Its artifact comes from `npm run build`.
 *
 * @example
 * const wallet = await deployOwnedSmartAccount(deployer, publicClient, owner.address);
 */
export async function deployOwnedSmartAccount(
  deployer: Signer,
  publicClient: PublicClient,
  owner: Address,
): Promise<Address> {
  const artifact = JSON.parse(
    await readFile("artifacts/test/contracts/utils/MockWallets.sol/OwnedSmartAccount.json", "utf8"),
  ) as { abi: readonly unknown[]; bytecode: Hex };
  const hash = await deployer.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args: [owner],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.contractAddress == null) throw new Error("OwnedSmartAccount did not deploy");
  return receipt.contractAddress;
}
