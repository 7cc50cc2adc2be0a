import { createKeccak } from "hash-wasm";
import { hashDomain, keccak256, stringToHex, type Hex } from "viem";

import { EIP712_DOMAIN_TYPES, type LedgerDomain } from "../protocol/eip712.ts";
import type { Payment, Refund } from "../protocol/types.ts";

const PAYMENT_TYPEHASH = keccak256(
  stringToHex(
    "Payment(address payer,address payee,uint16 payeeBank,uint16 currency,uint256 amount,bytes32 qrHash,uint256 nonce,uint256 deadline)",
  ),
).slice(2);
const REFUND_TYPEHASH = keccak256(
  stringToHex("Refund(bytes32 paymentId,uint256 amount,uint256 nonce,uint256 deadline)"),
).slice(2);

/** EIP-712 ids of one deployment's messages, computed fast enough to check millions of payments. */
export interface LedgerHasher {
  /** The payment's id, equal to the protocol's `paymentId(domain, payment)`. */
  paymentId(payment: Payment): Hex;
  /** The refund's id, equal to the protocol's `refundId(domain, refund)`. */
  refundId(refund: Refund): Hex;
  /** The Merkle root of a batch's settled ids, equal to the protocol's `batchRoot(ids)`. */
  batchRoot(ids: readonly Hex[]): Hex;
}

/**
 * A hasher for the EIP-712 digests of one ledger deployment, using a WebAssembly keccak (about ten times
 * the speed of the pure-JavaScript one viem uses), with the same results as `paymentId` / `refundId`.
 *
 * @example
 * const hasher = await createLedgerHasher(ledgerDomain(31337n, ledger));
 * hasher.paymentId(payment) === paymentId(ledgerDomain(31337n, ledger), payment); // true
 */
export async function createLedgerHasher(domain: LedgerDomain): Promise<LedgerHasher> {
  const keccak = await createKeccak(256);
  const separator = hashDomain({
    domain,
    types: EIP712_DOMAIN_TYPES,
  }).slice(2);
  const hash = (hex: string): string => keccak.init().update(Buffer.from(hex, "hex")).digest("hex");
  const digest = (structHex: string): Hex => `0x${hash(`1901${separator}${hash(structHex)}`)}`;
  return {
    paymentId: (p) =>
      digest(
        PAYMENT_TYPEHASH +
          word(p.payer.slice(2)) +
          word(p.payee.slice(2)) +
          uintWord(p.payeeBank) +
          uintWord(p.currency) +
          uintWord(p.amount) +
          p.qrHash.slice(2) +
          uintWord(p.nonce) +
          uintWord(p.deadline),
      ),
    refundId: (r) =>
      digest(
        REFUND_TYPEHASH +
          r.paymentId.slice(2) +
          uintWord(r.amount) +
          uintWord(r.nonce) +
          uintWord(r.deadline),
      ),
    batchRoot: (ids) => {
      // Commutative pairs (smaller first), an odd node moving up unchanged: the ledger's `_merkleRoot`.
      let level = ids.map((id) => id.slice(2).toLowerCase());
      while (level.length > 1) {
        const next: string[] = [];
        for (let i = 0; i + 1 < level.length; i += 2) {
          const [a, b] = [level[i] as string, level[i + 1] as string];
          next.push(hash(a < b ? a + b : b + a));
        }
        if (level.length % 2 === 1) next.push(level[level.length - 1] as string);
        level = next;
      }
      return `0x${level[0] ?? "00".repeat(32)}`;
    },
  };
}

const word = (hex: string): string => hex.padStart(64, "0");
const uintWord = (value: bigint | number): string => word(value.toString(16));
