import { expect } from "chai";
import { network } from "hardhat";
import {
  encodeFunctionData,
  getContract,
  keccak256,
  parseEventLogs,
  stringToHex,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { deployNetwork, type Deployment, type Signer } from "../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../../src/deploy/sample.ts";
import {
  decodePaymentTerms,
  decodeRevert,
  fxDomain,
  fxPaymentFromRequest,
  fxPaymentId,
  fxSettlementAbi,
  fxTypes,
  quoteStructHash,
  rateFromDecimal,
  rejectReasonName,
  revertData,
  settlementLedgerAbi,
  type FxDomain,
  type FxPayment,
  type FxQuote,
} from "../../src/protocol/index.ts";

const { CNY, HKD } = SAMPLE_CURRENCIES;

/** One bank's money in one currency, as `getPosition` reports it. */
interface Position {
  reserves: bigint;
  deposits: bigint;
}

/**
 * A CNY payer at Alpha pays an HKD merchant at Beta at a quote signed by Gamma's relayer key, submitted by
 * Alpha's relayer, on the sample network `deployNetwork` builds (which grants the FX module its role). Gamma
 * holds CNY and HKD reserves and no customers at all: a pure FX provider.
 */
describe("cross-currency payment end to end (EDR)", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let publicClient: PublicClient;
  let signers: Signer[];
  let deployment: Deployment;
  let domain: FxDomain;
  let bankA: number;
  let bankB: number;
  let bankC: number;
  const merchant = privateKeyToAccount(generatePrivateKey());
  const payer = privateKeyToAccount(generatePrivateKey());
  let quote: FxQuote;
  let quoteSignature: Hex;
  let settled: { payment: FxPayment; payerSignature: Hex };

  before(async function () {
    connection = await network.create();
    publicClient = await connection.viem.getPublicClient();
    signers = await connection.viem.getWalletClients();
    const bySigner = new Map(signers.map((s) => [s.account.address.toLowerCase(), s]));
    deployment = await deployNetwork(
      publicClient,
      (a) => bySigner.get(a.toLowerCase()),
      sampleNetworkSpec(signers.map((s) => s.account.address)),
    );
    domain = fxDomain(deployment.chainId, deployment.fx);
    bankA = deployment.banks.ALPHCNSH as number;
    bankB = deployment.banks.BETACNBJ as number;
    bankC = deployment.banks.GAMMHKHH as number;
    await confirmed(ledgerAs(adminB()).write.openAccount([merchant.address, HKD]));
    await confirmed(ledgerAs(adminA()).write.issueDeposits([payer.address, CNY, 1_000_00n]));
  });

  after(async function () {
    await connection.close();
  });

  const adminA = () => signers[6] as Signer;
  const adminB = () => signers[7] as Signer;
  const relayerA = () => signers[9] as Signer;
  const relayerC = () => signers[11] as Signer;

  function ledgerAs(signer: Signer) {
    return getContract({
      address: deployment.ledger,
      abi: settlementLedgerAbi,
      client: { public: publicClient, wallet: signer },
    });
  }

  function fxAs(signer: Signer) {
    return getContract({
      address: deployment.fx,
      abi: fxSettlementAbi,
      client: { public: publicClient, wallet: signer },
    });
  }

  async function confirmed(hash: Promise<Hex>) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
    expect(receipt.status).to.equal("success");
    return receipt;
  }

  async function position(bank: number, currency: number): Promise<Position> {
    const [reserves, deposits] = await ledgerAs(adminA()).read.getPosition([bank, currency]);
    return { reserves, deposits };
  }

  async function signPayment(payment: FxPayment): Promise<Hex> {
    return payer.signTypedData({ domain, types: fxTypes, primaryType: "FxPayment", message: payment });
  }

  it("settles both legs at once: CNY 100.00 from the payer, HKD 108.50 to the merchant", async function () {
    const now = (await publicClient.getBlock()).timestamp;
    quote = {
      provider: bankC,
      fromCurrency: CNY,
      toCurrency: HKD,
      rate: rateFromDecimal("1.0850", CNY, HKD),
      maxToAmount: 1_000_00n,
      validFrom: now,
      expiry: now + 600n,
      quoteId: keccak256(stringToHex("GAMM-Q-0001")),
    };
    // Gamma's relayer key signs through the node (eth_signTypedData_v4), as a provider's desk would.
    quoteSignature = await relayerC().signTypedData({
      account: relayerC().account,
      domain,
      types: fxTypes,
      primaryType: "FxQuote",
      message: quote,
    });
    const { payment, domain: paymentDomain } = fxPaymentFromRequest(
      {
        request: {
          chainId: BigInt(deployment.chainId),
          ledger: deployment.ledger,
          payeeBank: bankB,
          payee: merchant.address,
          currency: HKD,
          amount: "108.50",
          expiry: now + 900n,
        },
        payload: "00020101021226400010qrsettle.io0108BETACNBJ5303344540610850.006304ABCD",
        payer: payer.address,
        quote,
        nonce: 0n,
        deadline: now + 1_200n,
      },
      deployment.fx,
    );
    expect(paymentDomain).to.deep.equal(domain);
    expect(payment.payAmount).to.equal(100_00n);
    expect(payment.receiveAmount).to.equal(108_50n);
    expect(payment.deadline).to.equal(quote.expiry, "the deadline is kept within the quote");
    const payerSignature = await signPayment(payment);
    settled = { payment, payerSignature };

    const before = {
      payerBankCny: await position(bankA, CNY),
      providerCny: await position(bankC, CNY),
      providerHkd: await position(bankC, HKD),
      payeeBankHkd: await position(bankB, HKD),
      cnySupply: await ledgerAs(adminA()).read.getSupply([CNY]),
      hkdSupply: await ledgerAs(adminA()).read.getSupply([HKD]),
    };

    const receipt = await confirmed(
      fxAs(relayerA()).write.settleFxPayments([[{ payment, payerSignature, quote, quoteSignature }]]),
    );

    const [crossCurrency, ...moreCrossCurrency] = parseEventLogs({
      abi: settlementLedgerAbi,
      logs: receipt.logs,
      eventName: "CrossCurrencySettled",
    });
    expect(moreCrossCurrency).to.deep.equal([]);
    expect(crossCurrency?.address.toLowerCase()).to.equal(deployment.ledger.toLowerCase());
    expect(crossCurrency?.args.paymentId).to.equal(fxPaymentId(domain, payment));
    expect(crossCurrency?.args.payer).to.equal(payer.address);
    expect(crossCurrency?.args.payee).to.equal(merchant.address);
    expect(crossCurrency?.args.qrHash).to.equal(payment.qrHash);
    expect(decodePaymentTerms(crossCurrency?.args.payTerms ?? 0n)).to.deep.equal({
      amount: 100_00n,
      payerBank: bankA,
      payeeBank: bankC,
      currency: CNY,
    });
    expect(decodePaymentTerms(crossCurrency?.args.receiveTerms ?? 0n)).to.deep.equal({
      amount: 108_50n,
      payerBank: bankC,
      payeeBank: bankB,
      currency: HKD,
    });
    const legs = parseEventLogs({
      abi: settlementLedgerAbi,
      logs: receipt.logs,
      eventName: "InterbankSettled",
    });
    expect(legs.map((l) => l.args)).to.deep.equal([
      { fromBank: bankA, toBank: bankC, currency: CNY, amount: 100_00n },
      { fromBank: bankC, toBank: bankB, currency: HKD, amount: 108_50n },
    ]);
    const used = parseEventLogs({ abi: fxSettlementAbi, logs: receipt.logs, eventName: "QuoteUsed" });
    expect(used.map((u) => u.args)).to.deep.equal([
      {
        quoteHash: quoteStructHash(quote),
        provider: bankC,
        quoteId: quote.quoteId,
        receiveAmount: 108_50n,
        used: 108_50n,
      },
    ]);
    expect(
      parseEventLogs({ abi: fxSettlementAbi, logs: receipt.logs, eventName: "PaymentRejected" }),
    ).to.deep.equal([]);

    const ledger = ledgerAs(adminA());
    expect(await ledger.read.balanceOf([payer.address, CNY])).to.equal(900_00n);
    expect(await ledger.read.balanceOf([merchant.address, HKD])).to.equal(108_50n);
    expect(await ledger.read.balanceOf([merchant.address, CNY])).to.equal(0n);
    expect(await position(bankA, CNY)).to.deep.equal({
      reserves: before.payerBankCny.reserves - 100_00n,
      deposits: before.payerBankCny.deposits - 100_00n,
    });
    expect(await position(bankC, CNY)).to.deep.equal({
      reserves: before.providerCny.reserves + 100_00n,
      deposits: before.providerCny.deposits,
    });
    expect(await position(bankC, HKD)).to.deep.equal({
      reserves: before.providerHkd.reserves - 108_50n,
      deposits: before.providerHkd.deposits,
    });
    expect(await position(bankB, HKD)).to.deep.equal({
      reserves: before.payeeBankHkd.reserves + 108_50n,
      deposits: before.payeeBankHkd.deposits + 108_50n,
    });
    expect(await ledger.read.getSupply([CNY])).to.deep.equal({
      reserves: before.cnySupply.reserves,
      deposits: before.cnySupply.deposits - 100_00n,
    });
    expect(await ledger.read.getSupply([HKD])).to.deep.equal({
      reserves: before.hkdSupply.reserves,
      deposits: before.hkdSupply.deposits + 108_50n,
    });
    expect(await fxAs(relayerA()).read.quoteUsed([quoteStructHash(quote)])).to.equal(108_50n);
  });

  it("rejects a replay and a payment beyond the quote, settles the next, changes nothing else", async function () {
    const beyond: FxPayment = { ...settled.payment, receiveAmount: 900_00n, payAmount: 0n, nonce: 1n };
    beyond.payAmount = (beyond.receiveAmount * 10n ** 18n + quote.rate - 1n) / quote.rate;
    const fits: FxPayment = { ...settled.payment, receiveAmount: 891_50n, payAmount: 0n, nonce: 2n };
    fits.payAmount = (fits.receiveAmount * 10n ** 18n + quote.rate - 1n) / quote.rate;
    const payerBefore = await ledgerAs(adminA()).read.balanceOf([payer.address, CNY]);

    const receipt = await confirmed(
      fxAs(relayerA()).write.settleFxPayments([
        [
          { payment: settled.payment, payerSignature: settled.payerSignature, quote, quoteSignature },
          { payment: beyond, payerSignature: await signPayment(beyond), quote, quoteSignature },
          { payment: fits, payerSignature: await signPayment(fits), quote, quoteSignature },
        ],
      ]),
    );

    const rejected = parseEventLogs({
      abi: fxSettlementAbi,
      logs: receipt.logs,
      eventName: "PaymentRejected",
    });
    expect(
      rejected.map((r) => [r.args.paymentId, r.args.payer, rejectReasonName(r.args.reason)]),
    ).to.deep.equal([
      [fxPaymentId(domain, settled.payment), payer.address, "NonceUsed"],
      [fxPaymentId(domain, beyond), payer.address, "QuoteExhausted"],
    ]);
    const settledIds = parseEventLogs({
      abi: settlementLedgerAbi,
      logs: receipt.logs,
      eventName: "CrossCurrencySettled",
    }).map((e) => e.args.paymentId);
    expect(settledIds).to.deep.equal([fxPaymentId(domain, fits)]);
    expect(await ledgerAs(adminA()).read.balanceOf([payer.address, CNY])).to.equal(
      payerBefore - fits.payAmount,
    );
    expect(await ledgerAs(adminA()).read.balanceOf([merchant.address, HKD])).to.equal(1_000_00n);
    expect(await fxAs(relayerA()).read.quoteUsed([quoteStructHash(quote)])).to.equal(quote.maxToAmount);
  });

  it("refuses a caller that is not a relayer with a decodable UnauthorizedRelayer", async function () {
    const outsider = signers[13] as Signer;
    const data = await publicClient
      .call({
        account: outsider.account,
        to: deployment.fx,
        data: encodeFunctionData({
          abi: fxSettlementAbi,
          functionName: "settleFxPayments",
          args: [
            [{ payment: settled.payment, payerSignature: settled.payerSignature, quote, quoteSignature }],
          ],
        }),
      })
      .then(() => undefined, revertData);
    expect(data).to.be.a("string");
    expect(decodeRevert(data as Hex)).to.deep.equal({
      name: "UnauthorizedRelayer",
      args: [outsider.account.address],
      argNames: ["caller"],
    });
  });
});
