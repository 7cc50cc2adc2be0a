/**
 * Worker thread of {@link SignerRecoverer}: recovers the signers of EIP-2098 compact signatures with
 * libsecp256k1 (`recoverPublicKey`: native where it loads, else WebAssembly), exactly as the ledger's
 * `ecrecover` path does: a high-s signature, or one that does not recover, yields the zero address.
 */
import { parentPort } from "node:worker_threads";

import { createKeccak } from "hash-wasm";

import { recoverPublicKey, SECP256K1_HALF_ORDER } from "../crypto/secp256k1.ts";

/** A chunk of work: `count` 32-byte digests and `count` 64-byte compact signatures, back to back. */
export interface RecoverRequest {
  id: number;
  count: number;
  digests: ArrayBuffer;
  signatures: ArrayBuffer;
}

/** The recovered signers, 20 bytes each, zero for a signature the ledger would refuse. */
export interface RecoverResponse {
  id: number;
  signers: ArrayBuffer;
}

const keccak = await createKeccak(256);

parentPort?.on("message", ({ id, count, digests, signatures }: RecoverRequest) => {
  const digestBytes = new Uint8Array(digests);
  const signatureBytes = new Uint8Array(signatures);
  const signers = new Uint8Array(count * 20);
  for (let i = 0; i < count; i++) {
    const signer = recoverCompact(
      digestBytes.subarray(i * 32, i * 32 + 32),
      signatureBytes.subarray(i * 64, i * 64 + 64),
    );
    if (signer !== undefined) signers.set(signer, i * 20);
  }
  parentPort?.postMessage({ id, signers: signers.buffer } satisfies RecoverResponse, [signers.buffer]);
});

function recoverCompact(digest: Uint8Array, compact: Uint8Array): Uint8Array | undefined {
  const rs = new Uint8Array(compact);
  const parity = ((rs[32] ?? 0) >> 7) as 0 | 1;
  rs[32] = (rs[32] ?? 0) & 0x7f;
  if (BigInt(`0x${Buffer.from(rs.subarray(32)).toString("hex")}`) > SECP256K1_HALF_ORDER) return undefined;
  const publicKey = recoverPublicKey(digest, rs, parity);
  if (publicKey === undefined) return undefined;
  return keccak.init().update(publicKey.subarray(1)).digest("binary").subarray(12);
}
