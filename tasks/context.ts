import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Result } from "hardhat/types/utils";
import { errorResult } from "hardhat/utils/result";
import { getAddress, getContract, isAddress, type Address, type Hex, type PublicClient } from "viem";

import { RelayerClient } from "../src/client/relayerClient.ts";
import { readDeploymentFile } from "../src/deploy/deploymentFile.ts";
import type { Deployment, Signer } from "../src/deploy/network.ts";
import { parseAmount } from "../src/protocol/amounts.ts";
import { getCurrency } from "../src/protocol/currencies.ts";
import { QRSettleError } from "../src/protocol/errors.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../src/protocol/generated/abi.ts";
import { decodeRevert, revertData } from "../src/protocol/revert.ts";

/** Options every operator task takes. */
export interface CommonTaskArguments {
  /** Deployment file; defaults to deployments/<network>.json. */
  deployment: string;
  /** Print one JSON object instead of text. */
  json: boolean;
}

/** Where a task's result goes: text for people, one JSON object for scripts (`--json`). */
export function report(json: boolean, result: Record<string, unknown>, text: string): void {
  console.log(
    json
      ? JSON.stringify(result, (_key, value: unknown) =>
          typeof value === "bigint" ? value.toString() : value,
        )
      : text,
  );
}

/** A connection to the task's network with its accounts, and the deployment's contracts. */
export interface TaskContext {
  networkName: string;
  publicClient: PublicClient;
  deployment: Deployment;
  signers: Signer[];
  /** The signer for `address` among this network's accounts, if it has that key. */
  signerFor(address: Address): Signer | undefined;
  registry: ReturnType<typeof registryReader>;
  ledger: ReturnType<typeof ledgerReader>;
  /** Sends a transaction and waits for its receipt; throws if it reverted. */
  confirm(pending: Promise<Hex>): Promise<{ hash: Hex; blockNumber: bigint }>;
}

function registryReader(client: PublicClient, address: Address) {
  return getContract({ address, abi: bankRegistryAbi, client }).read;
}

function ledgerReader(client: PublicClient, address: Address) {
  return getContract({ address, abi: settlementLedgerAbi, client }).read;
}

/** The default deployment file of a network. */
export function defaultDeploymentFile(networkName: string): string {
  return `deployments/${networkName}.json`;
}

/**
 * Connects to the task's network (`--network`) and loads the deployment file.
 *
 * @example
 * const ctx = await openContext(hre, args.deployment);
 */
export async function openContext(
  hre: HardhatRuntimeEnvironment,
  deploymentFile: string,
): Promise<TaskContext> {
  const connection = await hre.network.getOrCreate();
  const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
  const deployment = await readDeploymentFile(
    deploymentFile || defaultDeploymentFile(connection.networkName),
  );
  const chainId = await publicClient.getChainId();
  if (chainId !== deployment.chainId) {
    throw new QRSettleError("DEPLOYMENT_WRONG_CHAIN", "The deployment file is for another chain.", {
      details: {
        network: connection.networkName,
        "chain id": chainId,
        "deployment chain id": deployment.chainId,
      },
    });
  }
  const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
  return {
    networkName: connection.networkName,
    publicClient,
    deployment,
    signers,
    signerFor: (address) => signers.find((s) => s.account.address.toLowerCase() === address.toLowerCase()),
    registry: registryReader(publicClient, deployment.registry),
    ledger: ledgerReader(publicClient, deployment.ledger),
    async confirm(pending) {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
      if (receipt.status !== "success") {
        throw new QRSettleError("TASK_TX_REVERTED", "The transaction reverted.", {
          details: { hash: receipt.transactionHash },
        });
      }
      return { hash: receipt.transactionHash, blockNumber: receipt.blockNumber };
    },
  };
}

/**
 * The signer to act with: `from` if given (it must be one of this network's accounts), else the first account
 * that `qualifies` (e.g. holds a role), so operators rarely need `--from`.
 *
 * @throws {QRSettleError} `TASK_NO_SIGNER` saying which key is needed.
 */
export async function chooseSigner(
  ctx: TaskContext,
  from: string,
  need: string,
  qualifies: (address: Address) => Promise<boolean>,
): Promise<Signer> {
  const candidates =
    from === ""
      ? ctx.signers
      : ctx.signers.filter((s) => s.account.address.toLowerCase() === from.toLowerCase());
  for (const signer of candidates) {
    if (await qualifies(signer.account.address)) return signer;
  }
  throw new QRSettleError("TASK_NO_SIGNER", `No key on this network can act as ${need}.`, {
    details: {
      network: ctx.networkName,
      from: from || undefined,
      hint: "add the key to the network's accounts (npx hardhat keystore set ...) or pass --from",
    },
  });
}

/** A currency from its ISO 4217 alphabetic or numeric code, with its exponent. */
export function currencyArgument(code: string): { numeric: number; alpha: string; exponent: number } {
  const currency = getCurrency(code);
  if (currency === undefined) {
    throw new QRSettleError("TASK_BAD_ARGUMENT", "Unknown ISO 4217 currency.", {
      details: { "--currency": code },
    });
  }
  return currency;
}

/** A decimal amount in `currency`'s major unit, as exact minor units. */
export function amountArgument(amount: string, currency: { exponent: number }): bigint {
  return parseAmount(amount, currency.exponent);
}

/** A bank given by id or BIC. */
export function bankArgument(ctx: TaskContext, bank: string): number {
  if (/^\d+$/.test(bank)) return Number(bank);
  const id = ctx.deployment.banks[bank];
  if (id === undefined) {
    throw new QRSettleError(
      "TASK_BAD_ARGUMENT",
      "Unknown bank: give its id or a BIC from the deployment file.",
      {
        details: { "--bank": bank, known: Object.keys(ctx.deployment.banks).join(", ") },
      },
    );
  }
  return id;
}

/** An address argument: all lower or upper case, or with a valid EIP-55 checksum (a wrong one is a typo). */
export function addressArgument(name: string, value: string): Address {
  const hex = value.slice(2);
  const singleCase = hex === hex.toLowerCase() || hex === hex.toUpperCase();
  if (!/^0x[0-9a-fA-F]{40}$/.test(value) || !(singleCase || isAddress(value, { strict: true }))) {
    throw new QRSettleError(
      "TASK_BAD_ARGUMENT",
      `--${name} must be an address ("0x" and 40 hex digits, valid checksum).`,
      {
        details: { [`--${name}`]: value },
      },
    );
  }
  return getAddress(value.toLowerCase());
}

/**
 * Runs a task action so that bad input and refused operations end with a clear message and exit code 1,
 * not a stack trace: a `QRSettleError` (or a contract revert decoded into one) is printed to stderr.
 */
export async function runTask(
  action: () => Promise<void>,
): Promise<Result<undefined, QRSettleError> | undefined> {
  try {
    await action();
    return undefined;
  } catch (error) {
    const known = error instanceof QRSettleError ? error : fromRevert(error);
    if (known === undefined) throw error;
    console.error(`error ${known.code}: ${known.message}`);
    return errorResult(known);
  }
}

/** A contract revert as a QRSettleError naming the custom error and its values, if the error is one. */
function fromRevert(error: unknown): QRSettleError | undefined {
  const data = revertData(error);
  const decoded = data === undefined ? undefined : decodeRevert(data);
  if (decoded === undefined) return undefined;
  return new QRSettleError(`REVERT_${decoded.name}`, `The contract refused: ${decoded.name}.`, {
    details: Object.fromEntries(
      decoded.args.map((arg, i) => [decoded.argNames[i] ?? `arg${i}`, String(arg)]),
    ),
  });
}

/**
 * The relayer to talk to: `--relayer <url>`, with the API key from `QRSETTLE_API_KEY` (keys never go on the
 * command line, where shell history and process lists would keep them).
 */
export function relayerArgument(url: string): RelayerClient {
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new QRSettleError("TASK_BAD_ARGUMENT", "--relayer must be the relayer's http(s) URL.", {
      details: { "--relayer": url },
    });
  }
  const apiKey = process.env.QRSETTLE_API_KEY;
  if (apiKey === undefined || apiKey === "") {
    throw new QRSettleError("TASK_NO_API_KEY", "Set QRSETTLE_API_KEY to the API key the bank issued you.");
  }
  return new RelayerClient({ url, apiKey });
}
