import { expect } from "chai";
import { decodeFunctionData, hexToBigInt, keccak256, slice, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  decodePaymentBatch,
  fxSettlementAbi,
  ledgerDomain,
  payAmountFor,
  quoteStructHash,
  rateFromDecimal,
  toWireFxPayment,
  toWireFxQuote,
  type FxPayment,
  type FxQuote,
  ledgerTypes,
  settlementLedgerAbi,
  toWirePayment,
  toWireRefund,
  type Payment,
} from "../../src/protocol/index.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import {
  batchCalldata,
  batchGasBudget,
  fittingPrefix,
  isBudgetable,
  itemGasBudget,
} from "../../src/relayer/engine/batchCalldata.ts";
import { batchDue } from "../../src/relayer/engine/batchWindow.ts";
import { batchGasLimit, calldataFloorGas, calldataTokens } from "../../src/relayer/engine/gas.ts";
import type { NewRequest, StoredRequest } from "../../src/relayer/store/types.ts";
import {
  confirm,
  customer,
  deployTestNetwork,
  first,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  signPayment,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { hkdMerchant, providerAdmin, signFxPayment, signQuote } from "./helpers/fx.ts";

const budgets = relayerConfigSchema.shape.batch.parse({});
const domain = ledgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
const merchant = privateKeyToAccount(generatePrivateKey()).address;

async function storedPayment(
  i: number,
  options: { smartAccount?: boolean; currency?: number; unsigned?: boolean } = {},
): Promise<StoredRequest> {
  const account = privateKeyToAccount(generatePrivateKey());
  const payment: Payment = {
    payer: account.address,
    payee: merchant,
    payeeBank: 2,
    currency: options.currency ?? 156,
    amount: BigInt(100 + i),
    qrHash: keccak256(stringToHex(`qr ${i}`)),
    nonce: BigInt(i),
    deadline: 2_000_000_000n,
  };
  const signature = options.smartAccount
    ? `0x${"5a".repeat(300)}`
    : options.unsigned
      ? (`0x${"5a".repeat(64)}1b` as Hex)
      : await account.signTypedData({ domain, types: ledgerTypes, primaryType: "Payment", message: payment });
  return {
    id: keccak256(stringToHex(`id ${i}`)),
    kind: "payment",
    signer: account.address.toLowerCase() as Address,
    currency: payment.currency,
    nonce: payment.nonce,
    amount: payment.amount,
    deadline: payment.deadline,
    body: JSON.stringify({
      payment: toWirePayment(payment),
      signature,
      ...(options.smartAccount ? { smartAccount: true } : {}),
    }),
    acceptedAt: 0,
    status: "accepted",
    attempts: 0,
    seq: i,
    updatedAt: 0,
  };
}

describe("batcher", function () {
  describe("batch window", function () {
    const now = 10_000;
    it("sends a full batch at once", function () {
      expect(batchDue({ count: 400, oldestAcceptedAt: now }, now, 400, 250)).to.deep.equal({ due: true });
    });
    it("sends a partial batch when its oldest payment has waited the window", function () {
      expect(batchDue({ count: 3, oldestAcceptedAt: now - 250 }, now, 400, 250)).to.deep.equal({ due: true });
    });
    it("otherwise says how long until the window closes", function () {
      expect(batchDue({ count: 3, oldestAcceptedAt: now - 100 }, now, 400, 250)).to.deep.equal({
        due: false,
        waitMs: 150,
      });
    });
    it("waits for nothing when nothing is queued", function () {
      expect(batchDue({ count: 0 }, now, 400, 250)).to.deep.equal({ due: false });
    });
    it("with a zero window, sends whatever is queued", function () {
      expect(batchDue({ count: 1, oldestAcceptedAt: now }, now, 400, 0)).to.deep.equal({ due: true });
    });
  });

  describe("gas", function () {
    it("counts EIP-7623 tokens: 1 per zero byte, 4 per other byte", function () {
      expect(calldataTokens("0x")).to.equal(0n);
      expect(calldataTokens("0x0001ff00")).to.equal(10n);
    });

    it("puts the calldata floor at 21,000 + 10 gas per token", function () {
      expect(calldataFloorGas("0x")).to.equal(21_000n);
      expect(calldataFloorGas("0x0001ff00")).to.equal(21_100n);
    });

    it("adds the margin, keeps at least the floor, and refuses what exceeds the cap", function () {
      const data: Hex = `0x${"ff".repeat(10_000)}`; // floor: 21,000 + 400,000
      expect(batchGasLimit(1_000_000n, data, 20, 16_777_216n)).to.equal(1_200_000n);
      expect(batchGasLimit(100_000n, data, 20, 16_777_216n)).to.equal(421_000n, "the floor binds");
      expect(batchGasLimit(15_000_000n, data, 20, 16_777_216n)).to.equal(undefined);
      expect(batchGasLimit(13_981_013n, "0x", 20, 16_777_216n)).to.equal(16_777_216n, "exactly the cap");
      expect(batchGasLimit(13_981_014n, "0x", 20, 16_777_216n)).to.equal(undefined, "one gas over");
    });
  });

  describe("sizing and encoding", function () {
    it("budgets ECDSA payments, ERC-1271 payments (with their signature bytes) and refunds", async function () {
      expect(itemGasBudget(await storedPayment(1), budgets)).to.equal(30_000);
      expect(itemGasBudget(await storedPayment(2, { smartAccount: true }), budgets)).to.equal(
        260_000 + 16 * 300,
      );
      expect(itemGasBudget({ ...(await storedPayment(3)), kind: "refund" }, budgets)).to.equal(120_000);
      expect(isBudgetable([await storedPayment(4)])).to.equal(true);
      expect(isBudgetable([await storedPayment(5), await storedPayment(6, { smartAccount: true })])).to.equal(
        false,
      );
    });

    it("fits a batch under the gas cap by budget, always at least one item", async function () {
      const many = await Promise.all(
        Array.from({ length: 600 }, (_, i) => storedPayment(i, { unsigned: true })),
      );
      const fitting = fittingPrefix(many, budgets);
      expect(fitting).to.equal(Math.floor((16_777_216 - 100_000) / 30_000));
      expect(Number(batchGasBudget(many.slice(0, fitting), budgets))).to.be.at.most(16_777_216);
      const heavy = await storedPayment(0, { smartAccount: true });
      expect(fittingPrefix([heavy], { ...budgets, gasCap: 100_000 })).to.equal(1);
    });

    it("encodes settlePayments calldata that decodes back to the same signed payments", async function () {
      const requests = await Promise.all(
        Array.from({ length: 5 }, (_, i) => storedPayment(i, { smartAccount: i === 2 })),
      );
      const data = batchCalldata(requests);
      const { functionName, args } = decodeFunctionData({ abi: settlementLedgerAbi, data });
      expect(functionName).to.equal("settlePayments");
      const [currency, payees, items] = args as [number, Hex, Hex];
      const decoded = decodePaymentBatch({ currency, payees, items });
      expect(decoded.map((signed) => toWirePayment(signed.payment))).to.deep.equal(
        requests.map((request) => {
          const wire = (JSON.parse(request.body) as { payment: ReturnType<typeof toWirePayment> }).payment;
          return { ...wire, payer: wire.payer.toLowerCase(), payee: wire.payee.toLowerCase() };
        }),
      );
      expect(decoded.map((signed) => signed.smartAccount === true)).to.deep.equal([
        false,
        false,
        true,
        false,
        false,
      ]);
    });

    it("encodes refundPayments calldata with each refund's payment, root and proof", async function () {
      const payment = await storedPayment(9);
      const wire = JSON.parse(payment.body) as { payment: ReturnType<typeof toWirePayment> };
      const body = {
        refund: toWireRefund({ paymentId: payment.id, amount: 5n, nonce: 1n, deadline: 2_000_000_000n }),
        payment: wire.payment,
        signature: `0x${"11".repeat(65)}`,
        batchRoot: keccak256("0x01"),
        proof: [keccak256("0x02")],
      };
      const data = batchCalldata([{ ...payment, kind: "refund", body: JSON.stringify(body) }]);
      const { functionName, args } = decodeFunctionData({ abi: settlementLedgerAbi, data });
      expect(functionName).to.equal("refundPayments");
      const [[refund]] = args as unknown as [
        [{ batchRoot: Hex; proof: Hex[]; amount: bigint; payment: { nonce: bigint } }],
      ];
      expect(refund).to.deep.include({ batchRoot: body.batchRoot, proof: body.proof, amount: 5n });
      expect(refund.payment.nonce).to.equal(9n);
    });

    it("encodes settleFxPayments calldata with each payment, its quote and both signatures, budgeted apart", function () {
      const quote: FxQuote = {
        provider: 3,
        fromCurrency: 156,
        toCurrency: 344,
        rate: rateFromDecimal("1.0850", 156, 344),
        maxToAmount: 1_000_00n,
        validFrom: 1_700_000_000n,
        expiry: 1_700_000_600n,
        quoteId: keccak256(stringToHex("quote")),
      };
      const payment: FxPayment = {
        payer: merchant,
        payee: privateKeyToAccount(generatePrivateKey()).address,
        payeeBank: 2,
        payCurrency: 156,
        payAmount: payAmountFor(108_50n, quote.rate),
        receiveCurrency: 344,
        receiveAmount: 108_50n,
        quoteHash: quoteStructHash(quote),
        qrHash: keccak256(stringToHex("qr")),
        nonce: 3n,
        deadline: 2_000_000_000n,
      };
      const request: StoredRequest = {
        id: keccak256(stringToHex("fx")),
        kind: "fx",
        signer: payment.payer.toLowerCase() as Address,
        currency: 156,
        nonce: 3n,
        amount: payment.payAmount,
        deadline: payment.deadline,
        paymentId: payment.quoteHash,
        body: JSON.stringify({
          quote: toWireFxQuote(quote),
          quoteSignature: `0x${"11".repeat(65)}`,
          payment: toWireFxPayment(payment),
          signature: `0x${"22".repeat(65)}`,
        }),
        acceptedAt: 0,
        status: "accepted",
        attempts: 0,
        seq: 1,
        updatedAt: 0,
      };
      const { functionName, args } = decodeFunctionData({
        abi: fxSettlementAbi,
        data: batchCalldata([request]),
      });
      expect(functionName).to.equal("settleFxPayments");
      expect(args[0]).to.deep.equal([
        {
          payment,
          payerSignature: `0x${"22".repeat(65)}`,
          quote,
          quoteSignature: `0x${"11".repeat(65)}`,
        },
      ]);
      expect(itemGasBudget(request, budgets)).to.equal(budgets.gasPerFxPayment);
      expect(isBudgetable([request])).to.equal(true, "an ECDSA payer's FX payment has a bounded cost");
      const smart = {
        ...request,
        body: JSON.stringify({ ...(JSON.parse(request.body) as object), smartAccount: true }),
      };
      expect(itemGasBudget(smart, budgets)).to.equal(
        budgets.gasPerFxPayment + budgets.gasPerErc1271Payment + 16 * 65,
      );
      expect(isBudgetable([request, smart])).to.equal(false, "a smart account's check is estimated");
    });
  });
});

/**
 * `batch.gasLimit: "budget"` sends a batch with the budgeted gas limit and no estimate, so the budget must cover
 * what the ledger really spends, above all for the small batches two wallets leave behind and in the worst
 * case: every payee paid for the first time (its balance word written from zero).
 */
describe("batch gas budget against the ledger (EDR)", function () {
  let net: TestNetwork;
  let relayer: Address;

  before(async function () {
    net = await deployTestNetwork();
    relayer = privateKeyToAccount(first(await relayerKeys(net, 1))).address;
  });

  after(async function () {
    await net.close();
  });

  /** A request as a claim hands it to the batcher: accepted, never attempted. */
  const claimed = (request: Omit<NewRequest, "acceptedAt">, seq: number): StoredRequest => ({
    ...request,
    acceptedAt: 0,
    status: "accepted",
    attempts: 0,
    seq,
    updatedAt: 0,
  });

  /** `count` payments, each from a new payer to a new merchant of bank B. */
  async function freshPayments(count: number): Promise<StoredRequest[]> {
    const requests: StoredRequest[] = [];
    for (let i = 0; i < count; i++) {
      const payerKey = await customer(net, 1_000_00n);
      const payee = privateKeyToAccount(generatePrivateKey()).address;
      await confirm(net, ledgerAs(net, net.adminB).write.openAccount([payee, CNY]));
      const value = { ...payment(net, payerKey, 1_00n + BigInt(i), 0n), payee };
      const signed = await signPayment(net, payerKey, value);
      requests.push(
        claimed(
          {
            id: idOf(net, signed),
            kind: "payment",
            signer: value.payer.toLowerCase() as Address,
            currency: value.currency,
            nonce: value.nonce,
            amount: value.amount,
            deadline: value.deadline,
            body: JSON.stringify(signed),
          },
          i,
        ),
      );
    }
    return requests;
  }

  /**
   * `count` cross-currency payments, each from a new payer to a new HKD merchant at a quote of its own: every
   * quote's signature checked and its use written from zero, every balance word new.
   */
  async function freshFxPayments(count: number): Promise<StoredRequest[]> {
    const quoteKey = first(await relayerKeys(net, 1, providerAdmin(net)));
    const requests: StoredRequest[] = [];
    for (let i = 0; i < count; i++) {
      const payerKey = await customer(net, 1_000_00n);
      const { address: payee } = await hkdMerchant(net);
      const { quote, quoteSignature } = await signQuote(net, quoteKey);
      const { body, id, payment } = await signFxPayment(net, payerKey, quote, quoteSignature, {
        payee,
        receiveAmount: 1_00n + BigInt(i),
      });
      requests.push(
        claimed(
          {
            id,
            kind: "fx",
            signer: payment.payer.toLowerCase() as Address,
            currency: payment.payCurrency,
            nonce: payment.nonce,
            amount: payment.payAmount,
            deadline: payment.deadline,
            paymentId: payment.quoteHash,
            quoteAmount: payment.receiveAmount,
            body: JSON.stringify(body),
          },
          i,
        ),
      );
    }
    return requests;
  }

  /** Asserts that all of `requests` settle and that their budgeted gas limit covers what `to` spends on them. */
  async function expectCovered(requests: StoredRequest[], to: Address): Promise<void> {
    const data = batchCalldata(requests);
    // Both batch functions return the number settled first: a batch of rejections would prove nothing.
    const { data: returned = "0x" } = await net.publicClient.call({ account: relayer, to, data });
    expect(hexToBigInt(slice(returned, 0, 32))).to.equal(BigInt(requests.length), "all settle");
    const used = await net.publicClient.estimateGas({ account: relayer, to, data });
    const limit = batchGasLimit(batchGasBudget(requests, budgets), data, 0, 16_777_216n);
    expect(limit, `budget ${String(limit)} for ${String(used)} used`).to.be.at.least(used);
  }

  for (const count of [1, 2, 5, 20]) {
    it(`covers a batch of ${count} to as many new merchants`, async function () {
      await expectCovered(await freshPayments(count), net.deployment.ledger);
    });
  }

  for (const count of [1, 2, 5, 20]) {
    it(`covers a cross-currency batch of ${count} to as many new merchants, each at a new quote`, async function () {
      await expectCovered(await freshFxPayments(count), net.deployment.fx);
    });
  }
});
