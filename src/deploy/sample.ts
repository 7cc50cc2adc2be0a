import type { Address } from "viem";

import type { NetworkSpec } from "./network.ts";

/** ISO 4217 numeric codes of the sample network's currencies. */
export const SAMPLE_CURRENCIES = { CNY: 156, HKD: 344 } as const;

/**
 * A ready-made network for local chains: three banks — two in mainland China and one in Hong Kong — settling
 * CNY, the Hong Kong bank also HKD, each with one relayer and 1,000,000.00 of reserves per currency.
 * Needs 12 funded accounts: governor, five role holders, three bank admins, three relayers.
 *
 * @example
 * const spec = sampleNetworkSpec((await viem.getWalletClients()).map((c) => c.account.address));
 */
export function sampleNetworkSpec(accounts: readonly Address[]): NetworkSpec {
  if (accounts.length < 12)
    throw new RangeError(`sampleNetworkSpec needs 12 accounts, got ${accounts.length}`);
  const [governor, operator, settlementAgent, pauser, freezer, enforcer, ...rest] = accounts as Address[];
  const [adminA, adminB, adminC, relayerA, relayerB, relayerC] = rest;
  const reserves = 1_000_000_00n;
  const { CNY, HKD } = SAMPLE_CURRENCIES;
  return {
    governor: governor as Address,
    adminTransferDelay: 86_400,
    roles: {
      operator: operator as Address,
      settlementAgent: settlementAgent as Address,
      pauser: pauser as Address,
      freezer: freezer as Address,
      enforcer: enforcer as Address,
    },
    currencies: [
      { code: CNY, exponent: 2 },
      { code: HKD, exponent: 2 },
    ],
    banks: [
      {
        bic: "ALPHCNSH",
        name: "Alpha Bank",
        admin: adminA as Address,
        relayers: [relayerA as Address],
        reserves: { [CNY]: reserves },
      },
      {
        bic: "BETACNBJ",
        name: "Beta Bank",
        admin: adminB as Address,
        relayers: [relayerB as Address],
        reserves: { [CNY]: reserves },
      },
      {
        bic: "GAMMHKHH",
        name: "Gamma Bank",
        admin: adminC as Address,
        relayers: [relayerC as Address],
        reserves: { [CNY]: reserves, [HKD]: reserves },
      },
    ],
  };
}
