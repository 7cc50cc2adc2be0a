import {
  keccak256,
  stringToHex,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

import { numberedDetails, QRSettleError } from "../protocol/errors.ts";
import { bankRegistryAbi, fxSettlementAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { contractBytecode } from "./artifacts.ts";
import { configureNetwork } from "./configure.ts";
import type { CustomerSpec } from "./networkFile.ts";

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

/** The registry role of the FX module contract, which `configureNetwork` grants to the deployment's `fx`. */
export const FX_SETTLEMENT_ROLE = keccak256(stringToHex("FX_SETTLEMENT_ROLE"));

/** One bank to onboard. */
export interface BankSpec {
  /** SWIFT BIC, 8 or 11 characters. */
  bic: string;
  name: string;
  admin: Address;
  /** Defaults to active. */
  status?: "active" | "suspended";
  relayers: Address[];
  /** Reserves issued once, to a position that has never held any, by ISO 4217 numeric code; minor units. */
  reserves: Record<number, bigint>;
  /** Operator caps by currency; minor units. */
  limits?: Record<number, { debitCap: bigint; maxPayment: bigint }>;
  /** Customer accounts to open, each funded once when first opened. */
  customers?: CustomerSpec[];
}

/** The state a network should be brought to (a network file, resolved). */
export interface NetworkSpec {
  /** Default admin of the registry; grants every role. */
  governor: Address;
  /** Seconds a default-admin handover must wait. */
  adminTransferDelay: number;
  roles: Record<keyof typeof ROLES, Address>;
  currencies: { code: number; exponent: number; enabled?: boolean }[];
  banks: BankSpec[];
}

/** Addresses and ids of a deployed network, as written to a deployment file. */
export interface Deployment {
  chainId: number;
  registry: Address;
  ledger: Address;
  /** The FX module that settles cross-currency payments on the ledger. */
  fx: Address;
  /** Block of the registry's deployment: where an auditor starts reading. */
  deployBlock: bigint;
  /** Registered bank ids by BIC. */
  banks: Record<string, number>;
}

/**
 * Deploys `BankRegistry`, `SettlementLedger` and `FxSettlement` from the compiled artifacts, the governor's key
 * paying. `configureNetwork` then grants the FX module its role.
 *
 * @example
 * const { registry, ledger } = await deployContracts(publicClient, governorSigner, spec);
 */
export async function deployContracts(
  publicClient: PublicClient,
  deployer: Signer,
  spec: Pick<NetworkSpec, "governor" | "adminTransferDelay">,
): Promise<Omit<Deployment, "banks">> {
  const deployed = async (pending: Promise<Hash>, name: string) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
    if (receipt.contractAddress == null) {
      throw new QRSettleError("DEPLOY_TX_FAILED", `Deploying ${name} failed.`, {
        details: { hash: receipt.transactionHash },
      });
    }
    return { address: receipt.contractAddress, block: receipt.blockNumber };
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
      args: [registry.address],
    }),
    "SettlementLedger",
  );
  const fx = await deployed(
    deployer.deployContract({
      abi: fxSettlementAbi,
      bytecode: await contractBytecode("FxSettlement"),
      args: [registry.address, ledger.address],
    }),
    "FxSettlement",
  );
  return {
    chainId: await publicClient.getChainId(),
    registry: registry.address,
    ledger: ledger.address,
    fx: fx.address,
    deployBlock: registry.block,
  };
}

/**
 * Deploys the contracts and brings them to `spec` (see {@link configureNetwork}); for local networks, tests
 * and benchmarks, where one process holds every key. `signerFor` returns a signer for each address the spec
 * names.
 *
 * @throws {QRSettleError} `CONFIGURE_INCOMPLETE` if a key the spec needs is missing.
 * @example
 * const deployment = await deployNetwork(publicClient, (address) => signers.get(address)!, spec);
 */
export async function deployNetwork(
  publicClient: PublicClient,
  signerFor: (address: Address) => Signer | undefined,
  spec: NetworkSpec,
): Promise<Deployment> {
  const deployer = signerFor(spec.governor);
  if (deployer === undefined) {
    throw new QRSettleError("CONFIGURE_INCOMPLETE", "No key for the governor, who deploys.", {
      details: { governor: spec.governor },
    });
  }
  const contracts = await deployContracts(publicClient, deployer, spec);
  const report = await configureNetwork(publicClient, signerFor, { ...contracts, banks: {} }, spec);
  if (report.pending.length > 0) {
    throw new QRSettleError("CONFIGURE_INCOMPLETE", "Some changes need keys this process does not hold.", {
      details: numberedDetails(
        "Pending",
        report.pending.map((p) => `${p.change} (key of ${p.signer})`),
      ),
    });
  }
  return report.deployment;
}
