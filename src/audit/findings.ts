import type { Hex } from "viem";

/** Where on the chain a finding comes from. */
export interface Evidence {
  blockNumber: number;
  transactionHash: Hex;
  /** The log that shows it; absent for findings about a whole transaction or about contract state. */
  logIndex?: number;
}

/** One thing that does not add up. */
export interface Finding {
  /** The check that failed, e.g. `signatures.payer`. */
  check: CheckId;
  message: string;
  evidence?: Evidence;
  /** Values that show the difference, e.g. `{ expected: "100", actual: "90" }`. */
  details?: Record<string, string>;
}

/**
 * Every check the auditor runs, with what it establishes. Stable ids: reports and scripts use them.
 *
 * @example
 * CHECKS["signatures.payer"]; // "every settled payment's payer signature is valid under …"
 */
export const CHECKS = {
  "events.decoded": "every log of the deployment decodes as one of its contracts' events",
  "events.consistent":
    "events replay without impossible steps (no balance below zero, no account at two banks)",
  "state.accounts": "every account's balance, bank, frozen and limited flags and nonces equal getAccount",
  "state.customerLimits": "every customer's daily limit and spending equal getCustomerLimit",
  "state.positions": "every bank's reserves and deposits equal getPosition",
  "state.supply": "every currency's totals equal getSupply",
  "state.refunds": "every refunded payment's total equals refundedAmount",
  "state.batchRoots": "every batch root's payer bank equals batchRootBank",
  "state.registry":
    "banks, admins, relayers, caps, currencies, roles and the pause equal the registry's views",
  "state.quotes": "every FX quote's consumption equals the FX module's quoteUsed",
  "supply.reserves": "per currency, reserves held by all banks = reserves issued − redeemed",
  "supply.deposits":
    "per bank and currency, deposits = issued − redeemed + settled in − out ± cross-currency = its customers' balances",
  "payments.unique": "no payment id settled twice",
  "refunds.bounded": "every refund refers to a settled payment, matches it and never exceeds what is left",
  "interbank.net":
    "every reserve movement equals the net of the cross-bank payments, refunds and forced moves",
  "batches.root": "every batch's Merkle root and counts equal those of its settled ids",
  "calldata.decoded":
    "every batch, refund and cross-currency transaction's calldata decodes and matches its events item by item",
  "signatures.payer":
    "every settled payment's payer signature is valid under the deployment's EIP-712 domain",
  "signatures.refund":
    "every settled refund's payee signature is valid under the deployment's EIP-712 domain",
  "signatures.quote":
    "every cross-currency payment settled at a quote signed by a relayer key of its provider bank, under the FX module's domain",
  "fx.legs":
    "both legs of every cross-currency payment match its calldata, and each leg between banks has its reserve movement",
  "fx.rate": "every cross-currency payment pays payAmountFor(receiveAmount, rate), in the quote's currencies",
  "fx.quotes": "every quote is used within its window and up to its maximum, as its QuoteUsed events say",
} as const;

/** Id of one check. */
export type CheckId = keyof typeof CHECKS;

/** How one check fared. */
export interface CheckResult {
  id: CheckId;
  description: string;
  passed: boolean;
  /** Items examined, e.g. payments for `signatures.payer`. */
  examined: number;
  failures: number;
  /** The first failures with their evidence; `failures` counts them all. */
  findings: Finding[];
}

/**
 * Collects findings per check, keeping the first `keep` of each with their evidence and counting the rest,
 * so a ledger that is wrong everywhere still yields a report of bounded size.
 *
 * @example
 * const findings = new FindingCollector();
 * findings.examined("payments.unique");
 * findings.fail({ check: "payments.unique", message: "settled twice", evidence });
 * findings.results(); // one CheckResult per check
 */
export class FindingCollector {
  readonly #keep: number;
  readonly #examined = new Map<CheckId, number>();
  readonly #failures = new Map<CheckId, number>();
  readonly #kept = new Map<CheckId, Finding[]>();

  constructor(keep = 100) {
    this.#keep = keep;
  }

  /** Counts `count` items examined by `check`. */
  examined(check: CheckId, count = 1): void {
    this.#examined.set(check, (this.#examined.get(check) ?? 0) + count);
  }

  /** Records a failure of a check. */
  fail(finding: Finding): void {
    this.#failures.set(finding.check, (this.#failures.get(finding.check) ?? 0) + 1);
    const kept = this.#kept.get(finding.check) ?? [];
    if (kept.length < this.#keep) kept.push(finding);
    this.#kept.set(finding.check, kept);
  }

  /** Total failures over all checks. */
  get failureCount(): number {
    let total = 0;
    for (const count of this.#failures.values()) total += count;
    return total;
  }

  /** One result per check, in the order of {@link CHECKS}. */
  results(): CheckResult[] {
    return (Object.keys(CHECKS) as CheckId[]).map((id) => {
      const failures = this.#failures.get(id) ?? 0;
      return {
        id,
        description: CHECKS[id],
        passed: failures === 0,
        examined: this.#examined.get(id) ?? 0,
        failures,
        findings: this.#kept.get(id) ?? [],
      };
    });
  }
}
