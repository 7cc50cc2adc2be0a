import { expect } from "chai";
import { Wallet } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";
import {
  getAddress,
  getContract,
  hashTypedData,
  recoverTypedDataAddress,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  fxDomain,
  fxPaymentId,
  fxSettlementAbi,
  fxTypes,
  payAmountFor,
  QRSettleError,
  quoteStructHash,
  RATE_SCALE,
  rateFromDecimal,
  type FxDomain,
  type FxPayment,
  type FxQuote,
} from "../../src/protocol/index.ts";

const CNY = 156;
const HKD = 344;
const JPY = 392;
const USD = 840;
const BHD = 48;
const UINT256_MAX = (1n << 256n) - 1n;

const uint16 = fc.integer({ min: 0, max: 0xffff });
const uint256 = fc.bigInt({ min: 0n, max: UINT256_MAX });
const bytes32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b): Hex => `0x${Buffer.from(b).toString("hex")}`);
const address = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => getAddress(`0x${Buffer.from(b).toString("hex")}`));

const quoteArbitrary: fc.Arbitrary<FxQuote> = fc.record({
  provider: uint16,
  fromCurrency: uint16,
  toCurrency: uint16,
  rate: uint256,
  maxToAmount: uint256,
  validFrom: uint256,
  expiry: uint256,
  quoteId: bytes32,
});

const paymentArbitrary: fc.Arbitrary<FxPayment> = fc.record({
  payer: address,
  payee: address,
  payeeBank: uint16,
  payCurrency: uint16,
  payAmount: uint256,
  receiveCurrency: uint16,
  receiveAmount: uint256,
  quoteHash: bytes32,
  qrHash: bytes32,
  nonce: uint256,
  deadline: uint256,
});

/** The EIP-712 types ethers needs for one primary type: it refuses unrelated types side by side. */
function ethersTypes(primaryType: keyof typeof fxTypes) {
  return { [primaryType]: fxTypes[primaryType].map((field) => ({ ...field })) };
}

function expectQRSettleError(run: () => unknown, code: string, detail?: string): QRSettleError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(QRSettleError);
    const typed = error as QRSettleError;
    expect(typed.code).to.equal(code);
    if (detail !== undefined) expect(typed.details).to.include(detail);
    return typed;
  }
  expect.fail(`expected ${code}`);
}

describe("FX SDK equals FxSettlement (EDR)", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let fx: ReturnType<typeof fxAt>;
  let domain: FxDomain;

  function fxAt(address: Hex, client: PublicClient) {
    return getContract({ address, abi: fxSettlementAbi, client });
  }

  before(async function () {
    connection = await network.create();
    const publicClient = await connection.viem.getPublicClient();
    // The hashing and pricing views read neither the registry nor the ledger, so any addresses do.
    const deployed = await connection.viem.deployContract("FxSettlement", [
      "0x0000000000000000000000000000000000000001",
      "0x0000000000000000000000000000000000000002",
    ]);
    fx = fxAt(deployed.address, publicClient);
    domain = fxDomain(await publicClient.getChainId(), deployed.address);
  });

  after(async function () {
    await connection.close();
  });

  it("quoteStructHash and the quote digest equal the contract's for random quotes", async function () {
    await fc.assert(
      fc.asyncProperty(quoteArbitrary, async (quote) => {
        expect(await fx.read.quoteStructHash([quote])).to.equal(quoteStructHash(quote));
        expect(await fx.read.hashQuote([quote])).to.equal(
          hashTypedData({ domain, types: fxTypes, primaryType: "FxQuote", message: quote }),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("fxPaymentId equals hashFxPayment for random payments", async function () {
    await fc.assert(
      fc.asyncProperty(paymentArbitrary, async (payment) => {
        expect(await fx.read.hashFxPayment([payment])).to.equal(fxPaymentId(domain, payment));
      }),
      { numRuns: 40 },
    );
  });

  it("fxPaymentId depends on the deployment: another chain or contract gives another id", function () {
    const [payment] = fc.sample(paymentArbitrary, { numRuns: 1, seed: 7 }) as [FxPayment];
    const id = fxPaymentId(domain, payment);
    expect(fxPaymentId(fxDomain(domain.chainId + 1n, domain.verifyingContract), payment)).to.not.equal(id);
    expect(fxPaymentId(fxDomain(domain.chainId, getAddress(`0x${"ab".repeat(20)}`)), payment)).to.not.equal(
      id,
    );
  });

  it("payAmountFor equals the contract across rates and amounts", async function () {
    const rate = fc.oneof(
      fc.bigInt({ min: 1n, max: 1000n }),
      fc.bigInt({ min: 10n ** 15n, max: 10n ** 21n }),
      fc.bigInt({ min: 1n, max: 10n ** 36n }),
    );
    const amount = fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 6n }),
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    );
    await fc.assert(
      fc.asyncProperty(amount, rate, async (receiveAmount, r) => {
        const sdk = payAmountFor(receiveAmount, r);
        expect(await fx.read.payAmountFor([receiveAmount, r])).to.equal(sdk);
        // Rounded up: never less than the quoted value, never a whole unit more.
        expect(sdk * r >= receiveAmount * RATE_SCALE).to.equal(true);
        if (sdk > 0n) expect((sdk - 1n) * r < receiveAmount * RATE_SCALE).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });

  it("payAmountFor rounds up, and refuses a zero rate as the contract does", async function () {
    expect(payAmountFor(108_50n, 1_085_000_000_000_000_000n)).to.equal(100_00n);
    expect(payAmountFor(100_00n, 1_085_000_000_000_000_000n)).to.equal(92_17n);
    expect(payAmountFor(1n, 10n ** 30n)).to.equal(1n);
    expect(payAmountFor(0n, 3n)).to.equal(0n);
    const error = expectQRSettleError(() => payAmountFor(1n, 0n), "FX_RATE_INVALID", "rate: 0");
    expect(error.shortMessage).to.equal("An FX rate must be positive.");
    let reverted = false;
    await fx.read.payAmountFor([1n, 0n]).catch(() => (reverted = true));
    expect(reverted).to.equal(true);
  });
});

describe("rateFromDecimal", function () {
  it("folds the ISO 4217 exponents into the 1e18-scaled rate", function () {
    expect(rateFromDecimal("1.0850", CNY, HKD)).to.equal(1_085_000_000_000_000_000n);
    expect(rateFromDecimal("0.0067", JPY, USD)).to.equal(670_000_000_000_000_000n);
    expect(rateFromDecimal("0.376", USD, BHD)).to.equal(3_760_000_000_000_000_000n);
    // Inverse direction: 1 BHD = 2.6596 USD is 0.26596 cents per fil.
    expect(rateFromDecimal("2.6596", BHD, USD)).to.equal(265_960_000_000_000_000n);
    expect(rateFromDecimal("150", USD, JPY)).to.equal(1_500_000_000_000_000_000n);
  });

  it("prices a merchant's amount as a person would: HKD 108.50, USD 0.67, BHD 0.376", function () {
    expect(payAmountFor(108_50n, rateFromDecimal("1.0850", CNY, HKD))).to.equal(100_00n); // CNY 100.00
    expect(payAmountFor(67n, rateFromDecimal("0.0067", JPY, USD))).to.equal(100n); // JPY 100
    expect(payAmountFor(376n, rateFromDecimal("0.376", USD, BHD))).to.equal(100n); // USD 1.00
    expect(payAmountFor(1n, rateFromDecimal("0.376", USD, BHD))).to.equal(1n); // 1 fil still costs a cent
  });

  it("takes as many decimals as the scale holds and no more", function () {
    // BHD → JPY: 18 + 0 − 3 leaves room for 15 decimals.
    expect(rateFromDecimal("0.400000000000001", BHD, JPY)).to.equal(400_000_000_000_001n);
    const error = expectQRSettleError(
      () => rateFromDecimal("0.4000000000000001", BHD, JPY),
      "FX_RATE_TOO_PRECISE",
      "rate: 0.4000000000000001",
    );
    expect(error.shortMessage).to.equal("The rate has more decimals than the 1e18 scale holds.");
  });

  it("throws typed errors for malformed, non-positive and unknown-currency rates", function () {
    for (const malformed of ["", "abc", "-1.0", "1.", ".5", "1e3", " 1.0", "1,085", "+1"]) {
      const error = expectQRSettleError(
        () => rateFromDecimal(malformed, CNY, HKD),
        "FX_RATE_INVALID",
        `rate: ${malformed}`,
      );
      expect(error.shortMessage).to.equal('A rate is a positive decimal such as "1.0850".');
    }
    for (const zero of ["0", "0.0000", "000"]) {
      const error = expectQRSettleError(() => rateFromDecimal(zero, CNY, HKD), "FX_RATE_INVALID");
      expect(error.shortMessage).to.equal("An FX rate must be positive.");
    }
    const unknown = expectQRSettleError(
      () => rateFromDecimal("1.0", 999, HKD),
      "FX_CURRENCY_UNKNOWN",
      "fromCurrency: 999",
    );
    expect(unknown.details).to.include("toCurrency: 344");
    expectQRSettleError(() => rateFromDecimal("1.0", CNY, 1), "FX_CURRENCY_UNKNOWN", "toCurrency: 1");
  });
});

describe("ethers and viem sign identical FX messages", function () {
  const verifyingContract = getAddress(`0x${"fe".repeat(20)}`);

  it("FxQuote and FxPayment signatures are equal and recover the signer", async function () {
    const samples = fc.sample(
      fc.tuple(quoteArbitrary, paymentArbitrary, fc.integer({ min: 1, max: 1_000_000 })),
      {
        numRuns: 10,
        seed: 42,
      },
    );
    for (const [quote, payment, chainId] of samples) {
      const key = generatePrivateKey();
      const account = privateKeyToAccount(key);
      const wallet = new Wallet(key);
      const domain = fxDomain(chainId, verifyingContract);

      const viemQuote = await account.signTypedData({
        domain,
        types: fxTypes,
        primaryType: "FxQuote",
        message: quote,
      });
      const ethersQuote = await wallet.signTypedData(domain, ethersTypes("FxQuote"), quote);
      expect(ethersQuote).to.equal(viemQuote);
      expect(
        await recoverTypedDataAddress({
          domain,
          types: fxTypes,
          primaryType: "FxQuote",
          message: quote,
          signature: viemQuote,
        }),
      ).to.equal(account.address);

      const bound = { ...payment, payer: account.address, quoteHash: quoteStructHash(quote) };
      const viemPayment = await account.signTypedData({
        domain,
        types: fxTypes,
        primaryType: "FxPayment",
        message: bound,
      });
      const ethersPayment = await wallet.signTypedData(domain, ethersTypes("FxPayment"), bound);
      expect(ethersPayment).to.equal(viemPayment);
      expect(
        await recoverTypedDataAddress({
          domain,
          types: fxTypes,
          primaryType: "FxPayment",
          message: bound,
          signature: viemPayment,
        }),
      ).to.equal(account.address);
    }
  });
});
