import { readFile } from "node:fs/promises";

import { parseAbi, type Address, type Hex, type PublicClient } from "viem";

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

/** ERC-1271's one function, for asking a wallet directly. */
export const erc1271Abi = parseAbi([
  "function isValidSignature(bytes32 digest, bytes signature) view returns (bytes4)",
]);

/**
 * Init code of a smart account whose ERC-1271 check first spins (26 gas a turn) `spins` times, or as many times
 * as its storage slot 0 says (`"slot"`: 1 when deployed, raised to stand for a wallet that changed after the
 * relayer accepted its payment), then answers whatever `verifier` (an OwnedSmartAccount) answers, so its
 * owner's signature still decides. Bytecode, so tests need no contract of their own.
 *
 * @example
 * const bytecode = spinningWalletInitCode(ownedSmartAccount, 7_000); // a check of about 190,000 gas
 */
export function spinningWalletInitCode(verifier: Address, spins: number | "slot"): Hex {
  const byte = (value: number) => value.toString(16).padStart(2, "0");
  // PUSH0 SLOAD, or PUSH2 spins: the count the loop below runs down.
  const count = spins === "slot" ? "5f54" : `61${spins.toString(16).padStart(4, "0")}`;
  const runtime = [
    count,
    // JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 <the JUMPDEST> JUMPI (back while non-zero), POP
    `5b600190038060${byte(count.length / 2)}5750`,
    "365f5f37", // CALLDATACOPY(0, 0, CALLDATASIZE)
    `5f5f365f73${verifier.slice(2)}5afa50`, // STATICCALL(GAS, verifier, 0, CALLDATASIZE, 0, 0), POP
    "3d5f5f3e3d5ff3", // RETURNDATACOPY(0, 0, RETURNDATASIZE), RETURN(0, RETURNDATASIZE)
  ].join("");
  // SSTORE(0, 1) for a count in storage; then CODECOPY(0, <after this code>, length), RETURN(0, length).
  const store = spins === "slot" ? "60015f55" : "";
  const copyAt = store.length / 2 + 9;
  return `0x${store}60${byte(runtime.length / 2)}8060${byte(copyAt)}5f395ff3${runtime}`;
}
