import { concat, keccak256, type Hex } from "viem";

import { QRSettleError } from "./errors.ts";

/** keccak256 of the two nodes in ascending order, as OpenZeppelin's `Hashes.commutativeKeccak256`. */
function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** The levels of the tree the ledger builds over a batch's settled payment ids, leaves first. */
function levels(ids: readonly Hex[]): Hex[][] {
  if (ids.length === 0)
    throw new QRSettleError("MERKLE_EMPTY", "A batch root needs at least one payment id.");
  const tree: Hex[][] = [[...ids]];
  for (let level = tree[0] ?? []; level.length > 1;) {
    const next: Hex[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i] as Hex, level[i + 1] as Hex));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Hex);
    tree.push(next);
    level = next;
  }
  return tree;
}

/**
 * The root `BatchSettled` reports for a batch whose settled payment ids are `ids`, in settlement order:
 * commutative keccak256 pairs, an odd node moving up unchanged.
 *
 * @example
 * const root = batchRoot(settledIdsFromReceipt);
 */
export function batchRoot(ids: readonly Hex[]): Hex {
  const tree = levels(ids);
  return tree[tree.length - 1]?.[0] as Hex;
}

/**
 * The Merkle proof that `ids[index]` settled in the batch, for `refundPayments`. Verifiable with
 * OpenZeppelin's `MerkleProof.verify`.
 *
 * @example
 * const proof = batchProof(settledIds, settledIds.indexOf(paymentId));
 */
export function batchProof(ids: readonly Hex[], index: number): Hex[] {
  if (!Number.isInteger(index) || index < 0 || index >= ids.length) {
    throw new QRSettleError(
      "MERKLE_INDEX_OUT_OF_RANGE",
      "The payment is not among the batch's settled ids.",
      {
        details: { index, settled: ids.length },
      },
    );
  }
  const proof: Hex[] = [];
  const tree = levels(ids);
  let position = index;
  for (const level of tree.slice(0, -1)) {
    const sibling = position % 2 === 0 ? position + 1 : position - 1;
    if (sibling < level.length) proof.push(level[sibling] as Hex);
    position = Math.floor(position / 2);
  }
  return proof;
}
