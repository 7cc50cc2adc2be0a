import { readFile } from "node:fs/promises";

import type { Address, Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";

import type { RelayerConfig } from "../config.ts";
import { RelayerError } from "../errors.ts";
import type { FeeFields } from "./fees.ts";
import { createKeccak256, type Keccak256 } from "../validation/keccak.ts";
import { decryptKeystore } from "./keystore.ts";
import { signTransaction } from "./signTransaction.ts";

/** A transaction for a hot wallet to sign. */
export interface UnsignedTransaction {
  chainId: number;
  nonce: number;
  to: Address;
  data: Hex;
  gas: bigint;
  fees: FeeFields;
}

/**
 * A hot wallet: its address, and signing without exposing the key (which lives only in this closure, is
 * never logged and never leaves the process). A KMS-backed wallet would implement the same interface.
 */
export interface HotWallet {
  /** Lower case. */
  address: Address;
  /** The signed bytes and their hash. */
  signTransaction(transaction: UnsignedTransaction): Promise<{ raw: Hex; hash: Hex }>;
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

function walletFromKey(keccak: Keccak256, privateKey: Hex): HotWallet {
  const key = Buffer.from(privateKey.slice(2), "hex");
  return {
    address: privateKeyToAddress(privateKey).toLowerCase() as Address,
    signTransaction: (transaction) => Promise.resolve(signTransaction(keccak, key, transaction)),
  };
}

/**
 * Loads the hot wallets: comma-separated private keys from the environment variable `privateKeysEnv`, and the
 * encrypted keystores, each decrypted with the password in its `passwordEnv`. Duplicates are dropped.
 *
 * @throws {RelayerError} `KEYS_MISSING`, `KEY_INVALID`, `KEYSTORE_UNREADABLE`, `KEYSTORE_INVALID` or
 * `KEYSTORE_WRONG_PASSWORD` — never with the key in the message.
 * @example
 * const wallets = await loadHotWallets(config.wallets, process.env);
 */
export async function loadHotWallets(
  config: RelayerConfig["wallets"],
  env: NodeJS.ProcessEnv,
): Promise<HotWallet[]> {
  const keys: Hex[] = [];
  const listed = env[config.privateKeysEnv];
  if (listed !== undefined && listed.trim() !== "") {
    listed.split(",").forEach((entry, index) => {
      const key = entry.trim();
      if (!PRIVATE_KEY.test(key)) {
        throw new RelayerError(
          "KEY_INVALID",
          `Entry ${index + 1} of ${config.privateKeysEnv} is not a 32-byte hex key.`,
        );
      }
      keys.push(key as Hex);
    });
  }
  for (const keystore of config.keystores) {
    const password = env[keystore.passwordEnv];
    if (password === undefined) {
      throw new RelayerError("KEYS_MISSING", `The password variable ${keystore.passwordEnv} is not set.`, {
        details: { keystore: keystore.path },
      });
    }
    let json: string;
    try {
      json = await readFile(keystore.path, "utf8");
    } catch (error) {
      throw new RelayerError("KEYSTORE_UNREADABLE", `Cannot read the keystore ${keystore.path}.`, {
        cause: error,
      });
    }
    keys.push(decryptKeystore(json, password));
  }
  if (keys.length === 0) {
    throw new RelayerError(
      "KEYS_MISSING",
      `No hot wallet keys: set ${config.privateKeysEnv} or configure wallets.keystores.`,
    );
  }
  const keccak = await createKeccak256();
  const wallets = new Map<Address, HotWallet>();
  for (const key of keys) {
    const wallet = walletFromKey(keccak, key);
    wallets.set(wallet.address, wallet);
  }
  return [...wallets.values()];
}
