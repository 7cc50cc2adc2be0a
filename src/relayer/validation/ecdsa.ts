import type { Address, Hex } from "viem";

import { recoverPublicKey, SECP256K1_HALF_ORDER } from "../../crypto/secp256k1.ts";
import type { Keccak256 } from "./keccak.ts";

const PARITY_BIT = 1n << 255n;

/** An ECDSA signature as libsecp256k1 takes it. */
export interface EcdsaSignature {
  /** r ‖ s, 64 bytes, s in the lower half of the order. */
  rs: Uint8Array;
  recoveryId: 0 | 1;
}

/** Why bytes are not a usable ECDSA signature. */
export type EcdsaProblem = "length" | "recoveryId" | "highS";

/**
 * Reads a 65-byte (r ‖ s ‖ v, v in 27, 28, 0, 1) or 64-byte EIP-2098 (r ‖ yParity·2^255 + s) signature.
 *
 * @example
 * const parsed = parseEcdsaSignature(signature);
 * if ("problem" in parsed) console.log(parsed.problem); // "length" | "recoveryId" | "highS"
 */
export function parseEcdsaSignature(signature: Hex): EcdsaSignature | { problem: EcdsaProblem } {
  const bytes = Buffer.from(signature.slice(2), "hex");
  let recoveryId: number;
  let s: bigint;
  const r = bytes.subarray(0, 32);
  if (bytes.length === 65) {
    const v = bytes[64] as number;
    recoveryId = v >= 27 ? v - 27 : v;
    if (recoveryId !== 0 && recoveryId !== 1) return { problem: "recoveryId" };
    s = BigInt(`0x${bytes.subarray(32, 64).toString("hex")}`);
  } else if (bytes.length === 64) {
    const vs = BigInt(`0x${bytes.subarray(32, 64).toString("hex")}`);
    recoveryId = vs & PARITY_BIT ? 1 : 0;
    s = vs & (PARITY_BIT - 1n);
  } else {
    return { problem: "length" };
  }
  if (s > SECP256K1_HALF_ORDER) return { problem: "highS" };
  const rs = new Uint8Array(64);
  rs.set(r, 0);
  rs.set(Buffer.from(s.toString(16).padStart(64, "0"), "hex"), 32);
  return { rs, recoveryId: recoveryId as 0 | 1 };
}

/**
 * The address that signed `digest`, with libsecp256k1 (see `recoverPublicKey`), or undefined if the signature
 * is not a valid point (r or s zero or out of range).
 *
 * @example
 * const signer = recoverAddress(keccak, digest, parsed);
 */
export function recoverAddress(
  keccak: Keccak256,
  digest: Uint8Array,
  signature: EcdsaSignature,
): Address | undefined {
  const publicKey = recoverPublicKey(digest, signature.rs, signature.recoveryId);
  if (publicKey === undefined) return undefined;
  const hash = keccak(publicKey.subarray(1));
  return `0x${Buffer.from(hash.subarray(12)).toString("hex")}`;
}
