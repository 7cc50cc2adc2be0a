/**
 * A varied ledger history on a test chain, touching every event the contracts emit: issuance, same-bank and
 * cross-bank batches with skipped items, a payment signed for another chain id, an ERC-1271 payer, a refund,
 * a forced move, freezes, caps, daily limits, nonce cancellations, account closing, relayer and role
 * changes, a suspension and a pause, in two currencies over several days; and cross-currency (PvP) payments
 * from CNY into HKD at a quote of the provider bank, two settled (one rounded up) and one skipped because the
 * quote is used up.
 */
import type { network } from "hardhat";
import {
  createWalletClient,
  custom,
  getContract,
  keccak256,
  parseEther,
  stringToHex,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

import { deployNetwork, ROLES, type Deployment, type Signer } from "../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../../src/deploy/sample.ts";
import {
  batchOutcomes,
  batchProof,
  bankRegistryAbi,
  encodePaymentBatch,
  fxDomain,
  fxTypes,
  ledgerDomain,
  ledgerTypes,
  fxSettlementAbi,
  payAmountFor,
  quoteStructHash,
  rateFromDecimal,
  settlementLedgerAbi,
  type BatchOutcome,
  type FxPayment,
  type FxQuote,
  type Payment,
  type SignedPayment,
} from "../../src/protocol/index.ts";
import { deployOwnedSmartAccount } from "../helpers/smartAccount.ts";

export const { CNY, HKD } = SAMPLE_CURRENCIES;

/** A connection made by `network.create()`. */
export type Connection = Awaited<ReturnType<typeof network.create>>;

/** Named actors and helpers over one deployed sample network. */
export interface SampleNetwork {
  connection: Connection;
  publicClient: PublicClient;
  signers: Signer[];
  deployment: Deployment;
  /** The sample's roles and bank keys, by name. */
  actors: {
    governor: Signer;
    operator: Signer;
    settlementAgent: Signer;
    pauser: Signer;
    freezer: Signer;
    enforcer: Signer;
    adminA: Signer;
    adminB: Signer;
    adminC: Signer;
    relayerA: Signer;
    relayerB: Signer;
    relayerC: Signer;
    /** A funded key with no role, for gas and spare duties. */
    spare: Signer;
  };
  banks: { A: number; B: number; C: number };
  ledgerAs: (signer: Signer) => ReturnType<typeof ledgerContract>;
  registryAs: (signer: Signer) => ReturnType<typeof registryContract>;
  confirmed: (hash: Promise<Hex>) => Promise<TransactionReceipt>;
  /** Signs `payment` by `payer` under the deployment's domain, or another chain id's. */
  sign: (payer: PrivateKeyAccount, payment: Payment, chainId?: number) => Promise<SignedPayment>;
  /** A payment from `payer` with a fresh QR hash and a deadline an hour ahead. */
  payment: (
    payer: Address,
    payee: Address,
    payeeBank: number,
    amount: bigint,
    nonce: bigint,
    currency?: number,
  ) => Promise<Payment>;
  /** Settles a batch through `relayer` and returns what happened. */
  settle: (relayer: Signer, batch: SignedPayment[]) => Promise<BatchOutcome>;
  /** A new customer key of the admin's bank holding `balance`. */
  customer: (admin: Signer, balance: bigint, currency?: number) => Promise<PrivateKeyAccount>;
  /** Gives an address some ETH for gas. */
  fund: (address: Address) => Promise<void>;
}

function ledgerContract(publicClient: PublicClient, address: Address, signer: Signer) {
  return getContract({ address, abi: settlementLedgerAbi, client: { public: publicClient, wallet: signer } });
}

function registryContract(publicClient: PublicClient, address: Address, signer: Signer) {
  return getContract({ address, abi: bankRegistryAbi, client: { public: publicClient, wallet: signer } });
}

/**
 * Deploys the sample network (three banks, CNY and HKD) on `connection` and returns actors and helpers.
 *
 * @example
 * const sample = await deploySampleNetwork(await network.create());
 */
export async function deploySampleNetwork(connection: Connection): Promise<SampleNetwork> {
  const publicClient = (await connection.viem.getPublicClient()) as unknown as PublicClient;
  const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
  const bySigner = new Map(signers.map((s) => [s.account.address.toLowerCase(), s]));
  const deployment = await deployNetwork(
    publicClient,
    (address) => {
      const signer = bySigner.get(address.toLowerCase());
      if (signer === undefined) throw new Error(`no key for ${address}`);
      return signer;
    },
    sampleNetworkSpec(signers.map((s) => s.account.address)),
  );
  const at = (i: number): Signer => signers[i] as Signer;
  const actors = {
    governor: at(0),
    operator: at(1),
    settlementAgent: at(2),
    pauser: at(3),
    freezer: at(4),
    enforcer: at(5),
    adminA: at(6),
    adminB: at(7),
    adminC: at(8),
    relayerA: at(9),
    relayerB: at(10),
    relayerC: at(11),
    spare: at(12),
  };
  const banks = {
    A: deployment.banks.ALPHCNSH as number,
    B: deployment.banks.BETACNBJ as number,
    C: deployment.banks.GAMMHKHH as number,
  };
  const ledgerAs = (signer: Signer) => ledgerContract(publicClient, deployment.ledger, signer);
  const confirmed = async (hash: Promise<Hex>): Promise<TransactionReceipt> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
    if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
    return receipt;
  };
  let qrCounter = 0;
  const sample: SampleNetwork = {
    connection,
    publicClient,
    signers,
    deployment,
    actors,
    banks,
    ledgerAs,
    registryAs: (signer) => registryContract(publicClient, deployment.registry, signer),
    confirmed,
    async sign(payer, payment, chainId = deployment.chainId) {
      const signature = await payer.signTypedData({
        domain: ledgerDomain(chainId, deployment.ledger),
        types: ledgerTypes,
        primaryType: "Payment",
        message: payment,
      });
      return { payment, signature };
    },
    async payment(payer, payee, payeeBank, amount, nonce, currency = CNY) {
      const block = await publicClient.getBlock();
      qrCounter += 1;
      return {
        payer,
        payee,
        payeeBank,
        currency,
        amount,
        qrHash: keccak256(stringToHex(`00020101021253031565406${amount}6304#${qrCounter}`)),
        nonce,
        deadline: block.timestamp + 3600n,
      };
    },
    async settle(relayer, batch) {
      const { currency, payees, items } = encodePaymentBatch(batch);
      const receipt = await confirmed(ledgerAs(relayer).write.settlePayments([currency, payees, items]));
      const [outcome] = batchOutcomes(receipt.logs, deployment.ledger);
      if (outcome === undefined) throw new Error("no BatchSettled");
      return outcome;
    },
    async customer(admin, balance, currency = CNY) {
      const account = privateKeyToAccount(generatePrivateKey());
      await confirmed(ledgerAs(admin).write.issueDeposits([account.address, currency, balance]));
      return account;
    },
    async fund(address) {
      await confirmed(actors.spare.sendTransaction({ to: address, value: parseEther("1") }));
    },
  };
  return sample;
}

/** What {@link writeSampleHistory} created, for tests that tamper with it. */
export interface SampleHistory {
  /** The cross-bank payment that was partly refunded, and its refund's amount. */
  refundedPayment: { id: Hex; amount: bigint; refund: bigint };
  /** A payment that settled, with its payer's key, for signature tests. */
  settledPayment: { id: Hex; payer: PrivateKeyAccount; batch: SignedPayment[] };
  /**
   * The `settleFxPayments` transaction: three CNY → HKD payments at one quote of Gamma Bank (bank C), from
   * Alpha's customer Ivy to merchants at Beta (two reserve legs), at Gamma (one leg) and at Alpha (skipped:
   * the quote is used up).
   */
  fx: { transactionHash: Hex; quote: FxQuote; payments: FxPayment[] };
  /** Customers by name. */
  customers: Record<"alice" | "bob" | "carol" | "dave" | "hana" | "ivy", PrivateKeyAccount>;
  merchants: Record<"teaHouse" | "noodleBar" | "harbourCafe", PrivateKeyAccount>;
}

/**
 * Writes the varied history described at the top of this file onto a freshly deployed sample network.
 *
 * @example
 * const sample = await deploySampleNetwork(connection);
 * const history = await writeSampleHistory(sample);
 */
export async function writeSampleHistory(sample: SampleNetwork): Promise<SampleHistory> {
  const { actors, banks, ledgerAs, registryAs, confirmed, sign, payment, settle, customer } = sample;
  const testClient = sample.connection.provider;
  const nextDay = async (): Promise<void> => {
    await testClient.request({ method: "evm_increaseTime", params: [86_400] });
    await testClient.request({ method: "evm_mine", params: [] });
  };
  const merchants = {
    teaHouse: privateKeyToAccount(generatePrivateKey()),
    noodleBar: privateKeyToAccount(generatePrivateKey()),
    harbourCafe: privateKeyToAccount(generatePrivateKey()),
  };
  await confirmed(ledgerAs(actors.adminA).write.openAccount([merchants.teaHouse.address, CNY]));
  await confirmed(ledgerAs(actors.adminB).write.openAccount([merchants.noodleBar.address, CNY]));
  await confirmed(ledgerAs(actors.adminC).write.openAccount([merchants.harbourCafe.address, CNY]));
  await confirmed(ledgerAs(actors.adminC).write.openAccount([merchants.harbourCafe.address, HKD]));
  await confirmed(ledgerAs(actors.adminA).write.openAccount([merchants.teaHouse.address, HKD]));
  const customers = {
    alice: await customer(actors.adminA, 1_000_00n),
    bob: await customer(actors.adminA, 500_00n),
    carol: await customer(actors.adminA, 20_00n),
    dave: await customer(actors.adminA, 300_00n),
    hana: await customer(actors.adminC, 800_00n, HKD),
    ivy: await customer(actors.adminA, 600_00n),
  };
  const { alice, bob, carol, dave, hana } = customers;

  // Day 1: cross-bank and same-bank payments, one over balance, one signed for another chain id.
  const toNoodleBar = await payment(alice.address, merchants.noodleBar.address, banks.B, 128_50n, 0n);
  const firstBatch = [
    await sign(alice, toNoodleBar),
    await sign(bob, await payment(bob.address, merchants.teaHouse.address, banks.A, 18_00n, 0n)),
    await sign(carol, await payment(carol.address, merchants.noodleBar.address, banks.B, 99_00n, 0n)),
    await sign(dave, await payment(dave.address, merchants.noodleBar.address, banks.B, 5_00n, 0n), 1),
    await sign(alice, await payment(alice.address, merchants.harbourCafe.address, banks.C, 42_00n, 1n)),
  ];
  const first = await settle(actors.relayerA, firstBatch);
  const refundedId = first.settled[0]?.paymentId as Hex;

  // Day 2: the noodle bar refunds part of Alice's payment; an enforcer moves deposits between banks.
  await nextDay();
  const settledIds = first.settled.map((s) => s.paymentId);
  const refund = {
    paymentId: refundedId,
    amount: 28_50n,
    nonce: 0n,
    deadline: toNoodleBar.deadline + 86_400n,
  };
  const refundSignature = await merchants.noodleBar.signTypedData({
    domain: ledgerDomain(sample.deployment.chainId, sample.deployment.ledger),
    types: ledgerTypes,
    primaryType: "Refund",
    message: refund,
  });
  await confirmed(
    ledgerAs(actors.relayerB).write.refundPayments([
      [
        {
          payment: toNoodleBar,
          batchRoot: first.root,
          proof: batchProof(settledIds, 0),
          amount: refund.amount,
          nonce: refund.nonce,
          deadline: refund.deadline,
          signature: refundSignature,
        },
      ],
    ]),
  );
  await confirmed(
    ledgerAs(actors.enforcer).write.forceTransfer([
      bob.address,
      merchants.noodleBar.address,
      CNY,
      10_00n,
      keccak256(stringToHex("court order 2026/117")),
    ]),
  );

  // Day 3: controls — freezes, caps, a daily limit, relayer and role changes, a suspension, a pause.
  await nextDay();
  await confirmed(ledgerAs(actors.freezer).write.setFrozen([carol.address, CNY, true]));
  await confirmed(ledgerAs(actors.freezer).write.setFrozen([carol.address, CNY, false]));
  await confirmed(registryAs(actors.operator).write.setBankLimits([banks.A, CNY, 50_000_00n, 600_00n]));
  await confirmed(ledgerAs(actors.adminA).write.setCustomerLimit([alice.address, CNY, 300_00n]));
  await confirmed(
    registryAs(actors.adminB).write.setRelayer([(sample.signers[14] as Signer).account.address, true]),
  );
  await confirmed(
    registryAs(actors.adminB).write.setRelayer([(sample.signers[14] as Signer).account.address, false]),
  );
  await confirmed(
    registryAs(actors.governor).write.grantRole([
      ROLES.freezer,
      (sample.signers[15] as Signer).account.address,
    ]),
  );
  await confirmed(
    registryAs(actors.governor).write.revokeRole([
      ROLES.freezer,
      (sample.signers[15] as Signer).account.address,
    ]),
  );
  await confirmed(registryAs(actors.operator).write.setBankStatus([banks.C, 2]));
  await confirmed(registryAs(actors.operator).write.setBankStatus([banks.C, 1]));
  await confirmed(registryAs(actors.pauser).write.pause());
  await confirmed(registryAs(actors.pauser).write.unpause());

  // Alice, now limited, pays twice: the second would exceed her daily limit and is skipped.
  const limited = await settle(actors.relayerA, [
    await sign(alice, await payment(alice.address, merchants.teaHouse.address, banks.A, 250_00n, 2n)),
    await sign(alice, await payment(alice.address, merchants.noodleBar.address, banks.B, 100_00n, 3n)),
  ]);

  // A smart-account payer (ERC-1271) whose owner key signs.
  const owner = privateKeyToAccount(generatePrivateKey());
  const wallet = await deployOwnedSmartAccount(sample.actors.spare, sample.publicClient, owner.address);
  await confirmed(ledgerAs(actors.adminA).write.issueDeposits([wallet, CNY, 200_00n]));
  const walletPayment = await payment(wallet, merchants.harbourCafe.address, banks.C, 75_00n, 0n);
  const walletSigned = await sign(owner, walletPayment);
  await settle(actors.relayerA, [{ ...walletSigned, smartAccount: true }]);

  // Nonces: Bob cancels one, Dave invalidates a range; both pay gas themselves.
  await sample.fund(bob.address);
  await sample.fund(dave.address);
  await confirmed(ledgerAs(asSigner(sample, bob)).write.cancelNonce([CNY, 5n]));
  await confirmed(ledgerAs(asSigner(sample, dave)).write.invalidateNonces([CNY, 3n]));

  // Day 4: HKD at Gamma Bank, a redemption each of deposits and reserves, an account closed.
  await nextDay();
  await settle(actors.relayerC, [
    await sign(hana, await payment(hana.address, merchants.harbourCafe.address, banks.C, 60_00n, 0n, HKD)),
    await sign(hana, await payment(hana.address, merchants.teaHouse.address, banks.A, 40_00n, 1n, HKD)),
  ]);
  const fx = await payAcrossCurrencies(sample, customers.ivy, merchants);
  await confirmed(ledgerAs(actors.adminA).write.redeemDeposits([dave.address, CNY, 100_00n]));
  await confirmed(ledgerAs(actors.settlementAgent).write.redeemReserves([banks.C, HKD, 1_000_00n]));
  const leaving = privateKeyToAccount(generatePrivateKey());
  await confirmed(ledgerAs(actors.adminB).write.openAccount([leaving.address, CNY]));
  await confirmed(ledgerAs(actors.adminB).write.closeAccount([leaving.address, CNY]));

  const settled = limited.settled[0];
  if (settled === undefined || limited.rejected[0]?.reason !== "DailyLimitExceeded") {
    throw new Error("sample history did not come out as designed");
  }
  return {
    refundedPayment: { id: refundedId, amount: toNoodleBar.amount, refund: refund.amount },
    settledPayment: { id: first.settled[0]?.paymentId as Hex, payer: alice, batch: firstBatch },
    fx,
    customers,
    merchants,
  };
}

/**
 * Ivy, Alpha's CNY customer, pays three HKD merchants at one quote of Gamma Bank (CNY → HKD at 1.0850, up
 * to HKD 300.00): HKD 108.50 to the noodle bar at Beta (CNY 100.00; reserve legs Alpha → Gamma in CNY and
 * Gamma → Beta in HKD), HKD 54.26 to the harbour cafe at Gamma itself (CNY 50.01, rounded up; one leg), and
 * HKD 200.00 to the tea house at Alpha, which the FX module skips: the quote has only HKD 137.24 left.
 */
async function payAcrossCurrencies(
  sample: SampleNetwork,
  ivy: PrivateKeyAccount,
  merchants: Record<"teaHouse" | "noodleBar" | "harbourCafe", PrivateKeyAccount>,
): Promise<SampleHistory["fx"]> {
  const { actors, banks, deployment, confirmed, ledgerAs, publicClient } = sample;
  await confirmed(ledgerAs(actors.adminB).write.openAccount([merchants.noodleBar.address, HKD]));
  const now = (await publicClient.getBlock()).timestamp;
  const domain = fxDomain(deployment.chainId, deployment.fx);
  const quote: FxQuote = {
    provider: banks.C,
    fromCurrency: CNY,
    toCurrency: HKD,
    rate: rateFromDecimal("1.0850", CNY, HKD),
    maxToAmount: 300_00n,
    validFrom: now,
    expiry: now + 3_600n,
    quoteId: keccak256(stringToHex("GAMM-Q-0042")),
  };
  const quoteSignature = await actors.relayerC.signTypedData({
    account: actors.relayerC.account,
    domain,
    types: fxTypes,
    primaryType: "FxQuote",
    message: quote,
  });
  const payments = (
    [
      [merchants.noodleBar.address, banks.B, 108_50n],
      [merchants.harbourCafe.address, banks.C, 54_26n],
      [merchants.teaHouse.address, banks.A, 200_00n],
    ] as const
  ).map(([payee, payeeBank, receiveAmount], nonce): FxPayment => ({
    payer: ivy.address,
    payee,
    payeeBank,
    payCurrency: CNY,
    payAmount: payAmountFor(receiveAmount, quote.rate),
    receiveCurrency: HKD,
    receiveAmount,
    quoteHash: quoteStructHash(quote),
    qrHash: keccak256(stringToHex(`fx-${nonce}`)),
    nonce: BigInt(nonce),
    deadline: now + 3_600n,
  }));
  const requests = await Promise.all(
    payments.map(async (payment) => ({
      payment,
      payerSignature: await ivy.signTypedData({
        domain,
        types: fxTypes,
        primaryType: "FxPayment",
        message: payment,
      }),
      quote,
      quoteSignature,
    })),
  );
  const fx = getContract({
    address: deployment.fx,
    abi: fxSettlementAbi,
    client: { public: publicClient, wallet: actors.relayerA },
  });
  const receipt = await confirmed(fx.write.settleFxPayments([requests]));
  return { transactionHash: receipt.transactionHash, quote, payments };
}

/** A wallet client for a generated key on the sample's chain; viem signs locally and sends it raw. */
function asSigner(sample: SampleNetwork, account: PrivateKeyAccount): Signer {
  return createWalletClient({
    account,
    chain: sample.publicClient.chain,
    transport: custom(sample.connection.provider),
  }) as Signer;
}
