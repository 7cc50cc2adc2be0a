import { getContract, hexToString, toHex, type Address, type Hash, type PublicClient } from "viem";

import { formatAmount } from "../protocol/amounts.ts";
import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import { QRSettleError } from "../protocol/errors.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { FX_SETTLEMENT_ROLE, ROLES, type Deployment, type NetworkSpec, type Signer } from "./network.ts";

/** A change configure wanted to make but could not sign: it needs `signer`'s key. */
export interface PendingChange {
  change: string;
  signer: Address;
}

/** What one configure run did. */
export interface ConfigureReport {
  /** The deployment with every bank id known so far. */
  deployment: Deployment;
  /** Changes made, in order, described for people. */
  applied: string[];
  /** Changes that need a key this run did not have. */
  pending: PendingChange[];
  /** How many items already matched the spec. */
  unchanged: number;
}

const BANK_STATUS = { active: 1, suspended: 2 } as const;

/**
 * Brings a deployed network to `spec`, changing only what differs, so that a second run changes nothing:
 * roles granted, currencies listed and enabled, banks registered with their admin, status, relayers and caps,
 * customer accounts opened. Initial funding (bank reserves, customer balances) is issued once, to a position
 * or account that never held any, and is never topped up or clawed back: after payments have moved money, a
 * re-run does not move it back.
 *
 * A change is signed by the key its role needs, from `signerFor`; where that returns undefined the change is
 * reported as pending, so each party of a consortium can run configure with its own keys.
 *
 * Not reconciled, because the contracts cannot enumerate them: roles held by addresses the spec does not name,
 * and relayers the spec does not list. `docs/operator.md` shows how to revoke them.
 *
 * @example
 * const report = await configureNetwork(publicClient, signerFor, deployment, spec, (line) => console.log(line));
 */
export async function configureNetwork(
  publicClient: PublicClient,
  signerFor: (address: Address) => Signer | undefined,
  deployment: Deployment,
  spec: NetworkSpec,
  onProgress: (line: string) => void = () => undefined,
): Promise<ConfigureReport> {
  const read = {
    registry: getContract({ address: deployment.registry, abi: bankRegistryAbi, client: publicClient }).read,
    ledger: getContract({ address: deployment.ledger, abi: settlementLedgerAbi, client: publicClient }).read,
  };
  const report: ConfigureReport = {
    deployment: { ...deployment, banks: { ...deployment.banks } },
    applied: [],
    pending: [],
    unchanged: 0,
  };

  /** Sends one change if `signer`'s key is available, else records it as pending. Returns whether it ran. */
  const change = async (
    description: string,
    signer: Address,
    send: (wallet: Signer) => Promise<Hash>,
  ): Promise<boolean> => {
    const wallet = signerFor(signer);
    if (wallet === undefined) {
      report.pending.push({ change: description, signer });
      onProgress(`  pending  ${description} (needs the key of ${signer})`);
      return false;
    }
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await send(wallet) });
    if (receipt.status !== "success") {
      throw new QRSettleError("CONFIGURE_TX_FAILED", `Transaction failed: ${description}.`, {
        details: { hash: receipt.transactionHash },
      });
    }
    report.applied.push(description);
    onProgress(`  changed  ${description}`);
    return true;
  };
  const registryAs = (wallet: Signer) =>
    getContract({
      address: deployment.registry,
      abi: bankRegistryAbi,
      client: { public: publicClient, wallet },
    }).write;
  const ledgerAs = (wallet: Signer) =>
    getContract({
      address: deployment.ledger,
      abi: settlementLedgerAbi,
      client: { public: publicClient, wallet },
    }).write;
  const money = (amount: bigint, currency: number) => {
    const known = getCurrencyByNumeric(currency);
    return known === undefined
      ? `${amount} (${currency})`
      : `${known.alpha} ${formatAmount(amount, known.exponent)}`;
  };

  for (const [name, role] of Object.entries(ROLES) as [keyof typeof ROLES, Hash][]) {
    const holder = spec.roles[name];
    if (await read.registry.hasRole([role, holder])) report.unchanged++;
    else
      await change(`grant ${name} to ${holder}`, spec.governor, (w) =>
        registryAs(w).grantRole([role, holder]),
      );
  }

  if (await read.registry.hasRole([FX_SETTLEMENT_ROLE, deployment.fx])) report.unchanged++;
  else
    await change(`grant FX settlement to the FX module ${deployment.fx}`, spec.governor, (w) =>
      registryAs(w).grantRole([FX_SETTLEMENT_ROLE, deployment.fx]),
    );

  for (const { code, exponent, enabled = true } of spec.currencies) {
    const current = await read.registry.getCurrency([code]);
    if (!current.listed) {
      await change(`add currency ${code} (exponent ${exponent})`, spec.roles.operator, (w) =>
        registryAs(w).addCurrency([code, exponent]),
      );
      if (enabled) continue;
    } else if (current.exponent !== exponent) {
      throw new QRSettleError("CONFIGURE_CONFLICT", "A listed currency's exponent cannot change.", {
        details: { currency: code, "on chain": current.exponent, "in spec": exponent },
      });
    }
    const isEnabled = current.listed ? current.enabled : true;
    if (isEnabled === enabled) report.unchanged++;
    else
      await change(`${enabled ? "enable" : "disable"} currency ${code}`, spec.roles.operator, (w) =>
        registryAs(w).setCurrencyEnabled([code, enabled]),
      );
  }

  const bankIds = await registeredBanks(read.registry);
  for (const bank of spec.banks) {
    let bankId = bankIds.get(bank.bic);
    if (bankId === undefined) {
      const bic = toHex(bank.bic.padEnd(11, "X"), { size: 11 });
      const expectedId = (await read.registry.bankCount()) + 1;
      const registered = await change(
        `register bank ${bank.bic} "${bank.name}" as ${expectedId}`,
        spec.roles.operator,
        (w) => registryAs(w).registerBank([bic, bank.name, bank.admin]),
      );
      if (!registered) continue;
      bankId = expectedId;
      bankIds.set(bank.bic, bankId);
    }
    report.deployment.banks[bank.bic] = bankId;
    await configureBank(bankId, bank);
  }
  return report;

  async function configureBank(bankId: number, bank: NetworkSpec["banks"][number]): Promise<void> {
    const info = await read.registry.getBank([bankId]);
    if (info.admin.toLowerCase() === bank.admin.toLowerCase()) report.unchanged++;
    else
      await change(`set admin of ${bank.bic} to ${bank.admin}`, spec.roles.operator, (w) =>
        registryAs(w).setBankAdmin([bankId, bank.admin]),
      );
    const status = BANK_STATUS[bank.status ?? "active"];
    if (info.status === status) report.unchanged++;
    else
      await change(`set status of ${bank.bic} to ${bank.status ?? "active"}`, spec.roles.operator, (w) =>
        registryAs(w).setBankStatus([bankId, status]),
      );

    for (const relayer of bank.relayers) {
      if ((await read.registry.relayerBank([relayer])) === bankId) report.unchanged++;
      else
        await change(`enable relayer ${relayer} for ${bank.bic}`, bank.admin, (w) =>
          registryAs(w).setRelayer([relayer, true]),
        );
    }

    for (const [currencyKey, { debitCap, maxPayment }] of Object.entries(bank.limits ?? {})) {
      const currency = Number(currencyKey);
      const current = await read.registry.getBankLimits([bankId, currency]);
      if (current.debitCap === debitCap && current.maxPayment === maxPayment) report.unchanged++;
      else
        await change(
          `set caps of ${bank.bic} in ${currency}: debit cap ${money(debitCap, currency)}, max payment ${money(maxPayment, currency)}`,
          spec.roles.operator,
          (w) => registryAs(w).setBankLimits([bankId, currency, debitCap, maxPayment]),
        );
    }

    for (const [currencyKey, amount] of Object.entries(bank.reserves)) {
      const currency = Number(currencyKey);
      const [reserves, deposits] = await read.ledger.getPosition([bankId, currency]);
      // Initial funding only: a position that has held money is left to the settlement agent's operations.
      if (reserves !== 0n || deposits !== 0n || amount === 0n) report.unchanged++;
      else
        await change(
          `issue ${money(amount, currency)} of reserves to ${bank.bic}`,
          spec.roles.settlementAgent,
          (w) => ledgerAs(w).issueReserves([bankId, currency, amount]),
        );
    }

    for (const customer of bank.customers ?? []) {
      const account = await read.ledger.getAccount([customer.address, customer.currency]);
      if (account.bankId === bankId) {
        report.unchanged++;
      } else if (account.bankId !== 0) {
        throw new QRSettleError("CONFIGURE_CONFLICT", "A customer account belongs to another bank.", {
          details: {
            account: customer.address,
            currency: customer.currency,
            bank: account.bankId,
            "in spec": bank.bic,
          },
        });
      } else if (customer.initialBalance === 0n) {
        await change(
          `open account ${customer.address} at ${bank.bic} in ${customer.currency}`,
          bank.admin,
          (w) => ledgerAs(w).openAccount([customer.address, customer.currency]),
        );
      } else {
        await change(
          `open account ${customer.address} at ${bank.bic} with ${money(customer.initialBalance, customer.currency)}`,
          bank.admin,
          (w) => ledgerAs(w).issueDeposits([customer.address, customer.currency, customer.initialBalance]),
        );
      }
    }
  }
}

/** Registered banks by BIC (as the operator wrote it, trailing "XXX" padding removed for 8-character BICs). */
async function registeredBanks(registry: {
  bankCount: () => Promise<number>;
  getBank: (args: readonly [number]) => Promise<{ bic: `0x${string}` }>;
}): Promise<Map<string, number>> {
  const banks = new Map<string, number>();
  const count = await registry.bankCount();
  for (let id = 1; id <= count; id++) {
    const { bic } = await registry.getBank([id]);
    const full = hexToString(bic, { size: 11 });
    banks.set(full, id);
    if (full.endsWith("XXX")) banks.set(full.slice(0, 8), id);
  }
  return banks;
}
