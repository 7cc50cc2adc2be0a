import {
  getContract,
  keccak256,
  stringToHex,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

import { QRSettleError } from "../protocol/errors.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { contractBytecode } from "./artifacts.ts";

/** A wallet client bound to one account and chain. */
export type Signer = WalletClient<Transport, Chain, Account>;

/** The registry roles, by the name operators use. */
export const ROLES = {
  operator: keccak256(stringToHex("OPERATOR_ROLE")),
  settlementAgent: keccak256(stringToHex("SETTLEMENT_AGENT_ROLE")),
  pauser: keccak256(stringToHex("PAUSER_ROLE")),
  freezer: keccak256(stringToHex("FREEZER_ROLE")),
  enforcer: keccak256(stringToHex("ENFORCER_ROLE")),
} as const;

/** One bank to onboard. */
export interface BankSpec {
  /** SWIFT BIC, 8 or 11 characters. */
  bic: string;
  name: string;
  admin: Address;
  relayers: Address[];
  /** Reserves to issue, by ISO 4217 numeric currency, in minor units. */
  reserves: Record<number, bigint>;
  /** Operator caps by currency. */
  limits?: Record<number, { debitCap: bigint; maxPayment: bigint }>;
}

/** The state a network should be brought to. */
export interface NetworkSpec {
  /** Default admin of the registry; grants every role. */
  governor: Address;
  /** Seconds a default-admin handover must wait. */
  adminTransferDelay: number;
  roles: Record<keyof typeof ROLES, Address>;
  currencies: { code: number; exponent: number }[];
  banks: BankSpec[];
}

/** Addresses and ids of a deployed network. */
export interface Deployment {
  chainId: number;
  registry: Address;
  ledger: Address;
  /** Registered bank ids by BIC. */
  banks: Record<string, number>;
}

/**
 * Deploys the registry and the ledger and brings them to `spec`: roles granted, currencies listed, banks
 * registered with their relayers, caps and reserves. `signerFor` returns a signer for each address the spec
 * names (the governor, role holders and bank admins).
 *
 * @example
 * const deployment = await deployNetwork(publicClient, (address) => signers.get(address)!, spec);
 */
export async function deployNetwork(
  publicClient: PublicClient,
  signerFor: (address: Address) => Signer,
  spec: NetworkSpec,
): Promise<Deployment> {
  const confirm = async (pending: Promise<Hash>, what: string): Promise<void> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
    if (receipt.status !== "success") {
      throw new QRSettleError("DEPLOY_TX_FAILED", `Transaction failed: ${what}.`, {
        details: { hash: receipt.transactionHash },
      });
    }
  };
  const deployer = signerFor(spec.governor);
  const deployed = async (pending: Promise<Hash>, name: string): Promise<Address> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
    if (receipt.contractAddress == null) {
      throw new QRSettleError("DEPLOY_TX_FAILED", `Deploying ${name} failed.`, {
        details: { hash: receipt.transactionHash },
      });
    }
    return receipt.contractAddress;
  };

  const registry = await deployed(
    deployer.deployContract({
      abi: bankRegistryAbi,
      bytecode: await contractBytecode("BankRegistry"),
      args: [spec.governor, spec.adminTransferDelay],
    }),
    "BankRegistry",
  );
  const ledger = await deployed(
    deployer.deployContract({
      abi: settlementLedgerAbi,
      bytecode: await contractBytecode("SettlementLedger"),
      args: [registry],
    }),
    "SettlementLedger",
  );
  const registryAs = (address: Address) =>
    getContract({
      address: registry,
      abi: bankRegistryAbi,
      client: { public: publicClient, wallet: signerFor(address) },
    });
  const ledgerAs = (address: Address) =>
    getContract({
      address: ledger,
      abi: settlementLedgerAbi,
      client: { public: publicClient, wallet: signerFor(address) },
    });

  for (const [name, role] of Object.entries(ROLES) as [keyof typeof ROLES, Hash][]) {
    await confirm(registryAs(spec.governor).write.grantRole([role, spec.roles[name]]), `grant ${name}`);
  }
  const operator = registryAs(spec.roles.operator);
  for (const { code, exponent } of spec.currencies) {
    await confirm(operator.write.addCurrency([code, exponent]), `add currency ${code}`);
  }

  const banks: Record<string, number> = {};
  for (const bank of spec.banks) {
    const bic = toHex(bank.bic.padEnd(11, "X"), { size: 11 });
    const { result: bankId } = await operator.simulate.registerBank([bic, bank.name, bank.admin], {
      account: spec.roles.operator,
    });
    await confirm(operator.write.registerBank([bic, bank.name, bank.admin]), `register ${bank.bic}`);
    banks[bank.bic] = bankId;

    for (const relayer of bank.relayers) {
      await confirm(registryAs(bank.admin).write.setRelayer([relayer, true]), `relayer of ${bank.bic}`);
    }
    for (const [currency, { debitCap, maxPayment }] of Object.entries(bank.limits ?? {})) {
      await confirm(
        operator.write.setBankLimits([bankId, Number(currency), debitCap, maxPayment]),
        `limits of ${bank.bic}`,
      );
    }
    for (const [currency, amount] of Object.entries(bank.reserves)) {
      await confirm(
        ledgerAs(spec.roles.settlementAgent).write.issueReserves([bankId, Number(currency), amount]),
        `reserves of ${bank.bic}`,
      );
    }
  }

  return { chainId: await publicClient.getChainId(), registry, ledger, banks };
}
