/**
 * A sample QRSettle network for relayer tests, on any chain Hardhat can connect to: bank A's customers pay
 * merchants of bank B; the relayer's hot wallets are fresh keys, funded and registered as bank A's relayers.
 */
import { network } from "hardhat";
import {
  getAbiItem,
  getContract,
  keccak256,
  parseEther,
  stringToHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import * as secp256k1 from "tiny-secp256k1";

import { deployNetwork, type Deployment, type Signer } from "../../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../../../src/deploy/sample.ts";
import {
  bankRegistryAbi,
  fromWirePayment,
  ledgerDomain,
  ledgerTypes,
  settlementLedgerAbi,
  toWirePayment,
  type LedgerDomain,
  type Payment,
  type WireSignedPayment,
} from "../../../src/protocol/index.ts";
import {
  createTypedDataHasher,
  type TypedDataHasher,
} from "../../../src/relayer/validation/typedDataHasher.ts";
import { deployOwnedSmartAccount, spinningWalletInitCode } from "../../helpers/smartAccount.ts";

export const { CNY } = SAMPLE_CURRENCIES;

/** A deployed sample network and the actors relayer tests use. */
export interface TestNetwork {
  connection: Awaited<ReturnType<typeof network.create>>;
  publicClient: PublicClient;
  signers: Signer[];
  deployment: Deployment;
  domain: LedgerDomain;
  bankA: number;
  bankB: number;
  adminA: Signer;
  adminB: Signer;
  /** A merchant of bank B with an open CNY account. */
  merchant: Address;
  merchantKey: Hex;
  hasher: TypedDataHasher;
  close(): Promise<void>;
}

/**
 * Deploys the sample network on `target` (the in-process EDR network, or a node's URL) and opens a merchant.
 *
 * @example
 * const net = await deployTestNetwork({ network: "anvil", url: anvil.url });
 */
export async function deployTestNetwork(
  target: { network?: "anvil" | "localhost"; url?: string } = {},
): Promise<TestNetwork> {
  const connection =
    target.network === undefined
      ? await network.create()
      : await network.create({ network: target.network, override: { url: target.url as string } });
  const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
  const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
  const bySigner = new Map(signers.map((signer) => [signer.account.address.toLowerCase(), signer]));
  const deployment = await deployNetwork(
    publicClient,
    (address) => bySigner.get(address.toLowerCase()),
    sampleNetworkSpec(signers.map((signer) => signer.account.address)),
  );
  const domain = ledgerDomain(deployment.chainId, deployment.ledger);
  const merchantKey = generatePrivateKey();
  const merchant = privateKeyToAccount(merchantKey).address;
  const net: TestNetwork = {
    connection,
    publicClient,
    signers,
    deployment,
    domain,
    bankA: deployment.banks.ALPHCNSH as number,
    bankB: deployment.banks.BETACNBJ as number,
    adminA: signers[6] as Signer,
    adminB: signers[7] as Signer,
    merchant,
    merchantKey,
    hasher: await createTypedDataHasher(domain),
    close: () => connection.close(),
  };
  await confirm(net, ledgerAs(net, net.adminB).write.openAccount([merchant, CNY]));
  return net;
}

/** The ledger contract, writing as `signer`. */
export function ledgerAs(net: TestNetwork, signer: Signer) {
  return getContract({
    address: net.deployment.ledger,
    abi: settlementLedgerAbi,
    client: { public: net.publicClient, wallet: signer },
  });
}

/** The registry contract, writing as `signer`. */
export function registryAs(net: TestNetwork, signer: Signer) {
  return getContract({
    address: net.deployment.registry,
    abi: bankRegistryAbi,
    client: { public: net.publicClient, wallet: signer },
  });
}

/** Waits for a transaction and checks it succeeded. */
export async function confirm(net: TestNetwork, pending: Promise<Hex>): Promise<void> {
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: await pending });
  if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
}

/**
 * `count` fresh hot-wallet keys, each funded with 100 ETH and registered as a relayer of bank A (or of the bank
 * `admin` administers).
 *
 * @example
 * const keys = await relayerKeys(net, 2);
 */
export async function relayerKeys(net: TestNetwork, count: number, admin = net.adminA): Promise<Hex[]> {
  const keys = Array.from({ length: count }, () => generatePrivateKey());
  for (const key of keys) {
    const address = privateKeyToAccount(key).address;
    await inTurn(net, async () => {
      await confirm(net, funder(net).sendTransaction({ to: address, value: parseEther("100") }));
      await confirm(net, registryAs(net, admin).write.setRelayer([address, true]));
    });
  }
  return keys;
}

/**
 * A new customer of bank A holding `balance` CNY minor units.
 *
 * @example
 * const payerKey = await customer(net, 1_000_00n);
 */
export async function customer(net: TestNetwork, balance: bigint): Promise<Hex> {
  const key = generatePrivateKey();
  await inTurn(net, () =>
    confirm(
      net,
      ledgerAs(net, net.adminA).write.issueDeposits([privateKeyToAccount(key).address, CNY, balance]),
    ),
  );
  return key;
}

/**
 * A new customer of bank A that is a smart account holding `balance` CNY minor units: an OwnedSmartAccount of a
 * new owner key, or, given `spins`, a wallet whose check spins first in front of one (`spinningWalletInitCode`).
 *
 * @example
 * const { ownerKey, wallet } = await smartAccountCustomer(net, 1_000_00n);
 */
export async function smartAccountCustomer(
  net: TestNetwork,
  balance: bigint,
  spins?: number | "slot",
): Promise<{ ownerKey: Hex; wallet: Address }> {
  const ownerKey = generatePrivateKey();
  const deployer = funder(net);
  let wallet = await deployOwnedSmartAccount(
    deployer,
    net.publicClient,
    privateKeyToAccount(ownerKey).address,
  );
  if (spins !== undefined) {
    const hash = await deployer.deployContract({ abi: [], bytecode: spinningWalletInitCode(wallet, spins) });
    wallet = (await net.publicClient.waitForTransactionReceipt({ hash })).contractAddress as Address;
  }
  await confirm(net, ledgerAs(net, net.adminA).write.issueDeposits([wallet, CNY, balance]));
  return { ownerKey, wallet };
}

const turns = new WeakMap<TestNetwork, Promise<unknown>>();

/**
 * Runs `task` after every task queued before it on `net`: tests set customers up concurrently, and one
 * sender's transactions sent at once would pick the same nonce (Anvil then answers "replacement
 * transaction underpriced").
 */
function inTurn<T>(net: TestNetwork, task: () => Promise<T>): Promise<T> {
  const next = (turns.get(net) ?? Promise.resolve()).then(task);
  turns.set(
    net,
    next.catch(() => undefined),
  );
  return next;
}

/** The first item of a list that the test knows is not empty. */
export function first<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new Error("expected at least one item");
  return item;
}

/** The first of the node's unlocked accounts, which holds ETH for funding others. */
export function funder(net: TestNetwork): Signer {
  return net.signers[0] as Signer;
}

/** A payment from `payerKey` to the merchant, due in `ttlSeconds`. */
export function payment(
  net: TestNetwork,
  payerKey: Hex,
  amount: bigint,
  nonce: bigint,
  ttlSeconds = 3_600,
): Payment {
  return {
    payer: privateKeyToAccount(payerKey).address,
    payee: net.merchant,
    payeeBank: net.bankB,
    currency: CNY,
    amount,
    qrHash: keccak256(stringToHex(`000201010212…${amount}:${nonce}`)),
    nonce,
    deadline: BigInt(Math.floor(Date.now() / 1000) + ttlSeconds),
  };
}

/** Signs with viem (an implementation independent of the relayer's). */
export async function signPayment(
  net: TestNetwork,
  payerKey: Hex,
  value: Payment,
): Promise<WireSignedPayment> {
  const signature = await privateKeyToAccount(payerKey).signTypedData({
    domain: net.domain,
    types: ledgerTypes,
    primaryType: "Payment",
    message: value,
  });
  return { payment: toWirePayment(value), signature };
}

/**
 * Signs fast (libsecp256k1 in WebAssembly) for load tests: thousands of payments in a second.
 *
 * @example
 * const signed = signPaymentFast(net, payerKey, payment(net, payerKey, 100n, 0n));
 */
export function signPaymentFast(net: TestNetwork, payerKey: Hex, value: Payment): WireSignedPayment {
  const { digest } = net.hasher.payment(value);
  const { signature, recoveryId } = secp256k1.signRecoverable(digest, Buffer.from(payerKey.slice(2), "hex"));
  const hex = `0x${Buffer.from(signature).toString("hex")}${(27 + recoveryId).toString(16)}` as Hex;
  return { payment: toWirePayment(value), signature: hex };
}

const paymentSettled = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentSettled" });
const paymentRejected = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentRejected" });

/** The ledger's `PaymentSettled` and `PaymentRejected` logs on the canonical chain since `fromBlock`. */
export async function outcomeLogs(net: TestNetwork, fromBlock = 0n) {
  const [settled, rejected] = await Promise.all([
    net.publicClient.getLogs({ address: net.deployment.ledger, event: paymentSettled, fromBlock }),
    net.publicClient.getLogs({ address: net.deployment.ledger, event: paymentRejected, fromBlock }),
  ]);
  return { settled, rejected };
}

/** Every `PaymentSettled` id on the ledger's canonical chain, with how many times it appears. */
export async function settledOnChain(net: TestNetwork): Promise<Map<string, number>> {
  const { settled: logs } = await outcomeLogs(net);
  const counts = new Map<string, number>();
  for (const log of logs) {
    const id = String(log.args.paymentId);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The id of a wire payment, as the ledger computes it. */
export function idOf(net: TestNetwork, signed: WireSignedPayment): Hex {
  return net.hasher.payment(fromWirePayment(signed.payment)).id;
}
