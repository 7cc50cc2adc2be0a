import type { Address, Hex } from "viem";

import { ApiError } from "../errors.ts";
import { parseEcdsaSignature } from "./ecdsa.ts";
import type { LedgerView } from "./ledgerView.ts";
import type { SignerRecovery } from "./signerRecovery.ts";

/** How a signature was verified; the batch encodes ERC-1271 signatures differently. */
export interface VerifiedSignature {
  smartAccount: boolean;
}

/**
 * Checks that `signer` signed `digest` the way the ledger will check it: an ECDSA signature (65 bytes, or 64 in
 * EIP-2098 form, s in the lower half) that recovers `signer`; failing that, if `signer` has code, an ERC-1271
 * `isValidSignature` answer (an `eth_call`).
 *
 * @throws {ApiError} `SIGNATURE_MALFORMED`, `SIGNATURE_MALLEABLE` or `SIGNATURE_INVALID`.
 * @example
 * const { smartAccount } = await verifySignature(recovery, ledger, payer, digest, id, signature);
 */
export async function verifySignature(
  recovery: SignerRecovery,
  ledger: LedgerView,
  signer: Address,
  digest: Uint8Array,
  id: Hex,
  signature: Hex,
): Promise<VerifiedSignature> {
  const parsed = parseEcdsaSignature(signature);
  if ("rs" in parsed) {
    const recovered = await recovery.recover(digest, parsed);
    if (recovered !== undefined && recovered === signer.toLowerCase()) return { smartAccount: false };
  }
  if ((await ledger.hasCode(signer)) && (await ledger.isValidErc1271(signer, id, signature))) {
    return { smartAccount: true };
  }
  if ("problem" in parsed && parsed.problem === "highS") {
    throw new ApiError(
      "SIGNATURE_MALLEABLE",
      "The signature's s value is in the upper half of the curve order.",
    );
  }
  if ("problem" in parsed) {
    throw new ApiError(
      "SIGNATURE_MALFORMED",
      parsed.problem === "length"
        ? "An ECDSA signature has 65 bytes or 64 (EIP-2098), and the signer has no ERC-1271 wallet."
        : "The recovery byte v must be 27, 28, 0 or 1.",
    );
  }
  throw new ApiError("SIGNATURE_INVALID", `The signature does not recover ${signer}.`);
}
