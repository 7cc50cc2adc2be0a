import { expect } from "chai";
import { Wallet } from "ethers";
import { network } from "hardhat";
import { getContract, type Address, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { deployNetwork, type Deployment, type Signer } from "../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../../src/deploy/sample.ts";
import {
  AmountError,
  batchOutcomes,
  encodePaymentBatch,
  ledgerTypes,
  paymentFromRequest,
  qrPayloadHash,
  QRSettleError,
  settlementLedgerAbi,
  typesOf,
  type PaymentRequest,
} from "../../src/protocol/index.ts";
import { decodeQrSettleRequest, encodeQrSettleRequest } from "../../src/qr/index.ts";
import type { QrSettleRequest } from "../../src/qr/index.ts";

const { CNY } = SAMPLE_CURRENCIES;
const payer: Address = "0x0000000000000000000000000000000000000a11";

/** A request that needs no chain: the pure conversion rules. */
const request = (overrides: Partial<PaymentRequest> = {}): PaymentRequest => ({
  chainId: 31337n,
  ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  payeeBank: 2,
  payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  currency: CNY,
  ...overrides,
});

describe("paymentFromRequest: decoded QR + payer inputs → EIP-712 Payment", function () {
  it("converts a dynamic code's amount by the currency's exponent and binds the exact payload", function () {
    const { payment, domain } = paymentFromRequest({
      request: request({ amount: "88.80" }),
      payload: "000201…6304ABCD",
      payer,
      nonce: 7n,
      deadline: 1_900_000_000n,
    });
    expect(payment.amount).to.equal(88_80n);
    expect(payment.qrHash).to.equal(qrPayloadHash("000201…6304ABCD"));
    expect(payment.nonce).to.equal(7n);
    expect(domain).to.deep.equal({
      name: "QRSettle",
      version: "1",
      chainId: 31337n,
      verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    });
  });

  it("takes the payer's amount on a static code, with JPY, CNY and BHD exponents", function () {
    const typed = (currency: number, amount: string) =>
      paymentFromRequest({
        request: request({ currency }),
        payload: "x",
        payer,
        nonce: 0n,
        deadline: 1n,
        amount,
      }).payment.amount;
    expect(typed(392, "1500")).to.equal(1500n);
    expect(typed(156, "12.3")).to.equal(12_30n);
    expect(typed(48, "1.005")).to.equal(1005n);
  });

  it("refuses a static code without an amount, and a typed amount on a dynamic code", function () {
    const base = { payload: "x", payer, nonce: 0n, deadline: 1n };
    expect(() => paymentFromRequest({ ...base, request: request() }))
      .to.throw(QRSettleError)
      .with.property("code", "PAYMENT_AMOUNT_REQUIRED");
    expect(() => paymentFromRequest({ ...base, request: request({ amount: "1.00" }), amount: "2.00" }))
      .to.throw(QRSettleError)
      .with.property("code", "PAYMENT_AMOUNT_FIXED");
    expect(() => paymentFromRequest({ ...base, request: request(), amount: "1.234" }))
      .to.throw(AmountError)
      .with.property("code", "AMOUNT_TOO_MANY_DECIMALS");
    expect(() => paymentFromRequest({ ...base, request: request({ currency: 999 }), amount: "1" }))
      .to.throw(QRSettleError)
      .with.property("code", "PAYMENT_CURRENCY_UNKNOWN");
  });

  it("keeps the deadline within the code's expiry", function () {
    const { payment } = paymentFromRequest({
      request: request({ amount: "1.00", expiry: 1_000n }),
      payload: "x",
      payer,
      nonce: 0n,
      deadline: 5_000n,
    });
    expect(payment.deadline).to.equal(1_000n);
  });
});

describe("scan → decode → sign → settle, end to end on EDR", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let publicClient: PublicClient;
  let deployment: Deployment;
  let signers: Signer[];

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
  });
  after(async () => {
    await connection.close();
  });

  it("a merchant's dynamic code, paid by a customer signing with ethers and with viem alike", async function () {
    const ledgerAs = (signer: Signer) =>
      getContract({
        address: deployment.ledger,
        abi: settlementLedgerAbi,
        client: { public: publicClient, wallet: signer },
      });
    const wait = async (hash: Promise<Hex>) => publicClient.waitForTransactionReceipt({ hash: await hash });
    const merchant = privateKeyToAccount(generatePrivateKey()).address;
    const payerKey = generatePrivateKey();
    const customer = privateKeyToAccount(payerKey);
    await wait(ledgerAs(signers[7] as Signer).write.openAccount([merchant, CNY]));
    await wait(ledgerAs(signers[6] as Signer).write.issueDeposits([customer.address, CNY, 500_00n]));

    const merchantRequest: QrSettleRequest = {
      chainId: BigInt(deployment.chainId),
      ledger: deployment.ledger.toLowerCase() as Address,
      payeeBank: deployment.banks.BETACNBJ as number,
      payee: merchant.toLowerCase() as Address,
      currency: CNY,
      amount: "88.80",
      reference: "INV-2026-0042",
      merchantName: "NOODLE BAR",
      merchantCity: "BEIJING",
      countryCode: "CN",
      mcc: "5812",
      pointOfInitiation: "dynamic",
      alternateLanguage: { languagePreference: "ZH", merchantName: "面馆", merchantCity: "北京" },
    };
    const payload = encodeQrSettleRequest(merchantRequest);
    const scanned = decodeQrSettleRequest(payload);
    const deadline = (await publicClient.getBlock()).timestamp + 600n;
    const { payment, domain } = paymentFromRequest({
      request: scanned,
      payload,
      payer: customer.address,
      nonce: 0n,
      deadline,
    });

    const viemSignature = await customer.signTypedData({
      domain,
      types: ledgerTypes,
      primaryType: "Payment",
      message: payment,
    });
    const ethersSignature = await new Wallet(payerKey).signTypedData(domain, typesOf("Payment"), payment);
    expect(ethersSignature).to.equal(viemSignature);

    const { currency, payees, items } = encodePaymentBatch([{ payment, signature: viemSignature }]);
    const receipt = await wait(
      ledgerAs(signers[9] as Signer).write.settlePayments([currency, payees, items]),
    );
    const [outcome] = batchOutcomes(receipt.logs, deployment.ledger);
    expect(outcome?.rejected).to.deep.equal([]);
    expect(outcome?.settled[0]?.qrHash).to.equal(qrPayloadHash(payload));
    expect(outcome?.settled[0]?.amount).to.equal(88_80n);
    expect(outcome?.settled[0]?.paymentId).to.equal(
      await ledgerAs(signers[9] as Signer).read.hashPayment([payment]),
    );
  });
});
