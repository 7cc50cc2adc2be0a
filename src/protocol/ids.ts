import { hashTypedData, type Hex } from "viem";

import { ledgerTypes, type LedgerDomain } from "./eip712.ts";
import type { Payment, Refund } from "./types.ts";

/**
 * A payment's id: its EIP-712 digest under the ledger's domain, exactly as the ledger computes it. Unique per
 * payer and nonce, so a retried payment keeps its id.
 *
 * @example
 * const id = paymentId(ledgerDomain(31337n, ledger), payment);
 */
export function paymentId(domain: LedgerDomain, payment: Payment): Hex {
  return hashTypedData({ domain, types: ledgerTypes, primaryType: "Payment", message: payment });
}

/**
 * A refund's id: its EIP-712 digest under the ledger's domain.
 *
 * @example
 * const id = refundId(ledgerDomain(31337n, ledger), { paymentId, amount: 500n, nonce: 0n, deadline });
 */
export function refundId(domain: LedgerDomain, refund: Refund): Hex {
  return hashTypedData({ domain, types: ledgerTypes, primaryType: "Refund", message: refund });
}
