/**
 * Public-key recovery with libsecp256k1, the library Ethereum clients use: its native build where the
 * `secp256k1` package ships one for this platform (a prebuilt N-API binding: no compiler, loads in any
 * Node.js version), its WebAssembly build (`tiny-secp256k1`) everywhere else. Both are the same C library, so
 * they accept and refuse exactly the same signatures; the native one recovers about four times as many per
 * second, and recovery is the costliest check the relayer and the auditor run per payment.
 */
import { createRequire } from "node:module";

import * as wasm from "tiny-secp256k1";

/** The part of the `secp256k1` package's native binding used here. */
interface NativeSecp256k1 {
  ecdsaRecover(
    signature: Uint8Array,
    recoveryId: number,
    digest: Uint8Array,
    compressed: boolean,
  ): Uint8Array;
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // `secp256k1/bindings` is the native binding alone; the package's main entry would fall back to pure JS.
    return createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

/** Recovers the uncompressed public key (65 bytes) that signed `digest`, or undefined. */
export type RecoverPublicKey = (
  digest: Uint8Array,
  rs: Uint8Array,
  recoveryId: 0 | 1,
) => Uint8Array | undefined;

/** secp256k1n / 2: the largest `s` the ledger accepts (a higher one is the malleable twin of a valid one). */
export const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** libsecp256k1 in WebAssembly: loads everywhere. */
export const recoverWithWasm: RecoverPublicKey = (digest, rs, recoveryId) => {
  try {
    return wasm.recover(digest, rs, recoveryId, false) ?? undefined;
  } catch {
    return undefined;
  }
};

/** libsecp256k1 native, or undefined where the package has no binding for this platform. */
export const recoverWithNative: RecoverPublicKey | undefined = ((binding) =>
  binding === undefined
    ? undefined
    : (digest: Uint8Array, rs: Uint8Array, recoveryId: 0 | 1) => {
        try {
          return binding.ecdsaRecover(rs, recoveryId, digest, false);
        } catch {
          return undefined;
        }
      })(loadNative());

/**
 * Which build recovers keys in this process: `native`, or `wasm` where no native binding loads for the
 * platform (or `QRSETTLE_SECP256K1=wasm` asks for it).
 */
export const SECP256K1_BACKEND: "native" | "wasm" =
  recoverWithNative === undefined || process.env.QRSETTLE_SECP256K1 === "wasm" ? "wasm" : "native";

/**
 * The uncompressed public key (65 bytes, `0x04 ‖ x ‖ y`) that signed `digest`, with the build that
 * `SECP256K1_BACKEND` names; undefined when `rs` is not a valid signature (r or s zero or not below the group
 * order) or no point recovers. Does not judge `s`'s half: callers that follow the ledger refuse a high `s`
 * first.
 *
 * @example
 * const publicKey = recoverPublicKey(digest, rs, 1);
 */
export const recoverPublicKey: RecoverPublicKey =
  SECP256K1_BACKEND === "native" ? (recoverWithNative as RecoverPublicKey) : recoverWithWasm;
