import { createKeccak, type IHasher } from "hash-wasm";

/** A synchronous keccak-256 over bytes, returning 32 bytes. */
export type Keccak256 = (data: Uint8Array) => Uint8Array;

/**
 * keccak-256 in WebAssembly: about ten times faster than viem's pure-JS keccak for the short inputs of
 * EIP-712 hashing, which the relayer runs twice per payment. The hasher needs one asynchronous set-up.
 *
 * @example
 * const keccak = await createKeccak256();
 * keccak(new Uint8Array(32)); // Uint8Array(32)
 */
export async function createKeccak256(): Promise<Keccak256> {
  const hasher: IHasher = await createKeccak(256);
  return (data) => {
    hasher.init();
    hasher.update(data);
    return hasher.digest("binary");
  };
}
