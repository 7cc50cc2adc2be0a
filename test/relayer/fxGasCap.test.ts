import { expect } from "chai";
import {
  decodeFunctionData,
  encodeFunctionData,
  isAddressEqual,
  type Address,
  type Hex,
  type Transaction,
  type TransactionReceipt,
  type Transport,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { ERC1271_GAS, fxSettlementAbi, type FxPayment, type FxQuote } from "../../src/protocol/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { erc1271Abi } from "../helpers/smartAccount.ts";
import {
  CNY,
  expectFxSettledOnce,
  fxOutcomeLogs,
  HKD,
  hkdMerchant,
  position,
  providerAdmin,
  providerBank,
  signFxPayment,
  signQuote,
} from "./helpers/fx.ts";
import { call, waitForFinal, type Answer } from "./helpers/http.ts";
import {
  deployTestNetwork,
  first,
  ledgerAs,
  relayerKeys,
  type TestNetwork,
  smartAccountCustomer,
} from "./helpers/network.ts";
import { edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

/** What each smart-account payer holds at Alpha before paying. */
const DEPOSIT = 1_000_00n;
/** `batch.gasMarginPercent`'s default: the relayer signs the estimate plus this, and that must fit the cap. */
const MARGIN_PERCENT = 20n;
/** Spins of the greedy wallet below that use about 190,000 gas: most of what FxSettlement allows it. */
const GREEDY_SPINS = 7_000;
/** Spins that use about 240,000 gas: more than FxSettlement allows, so on chain its check always fails. */
const OVER_ALLOWANCE_SPINS = 9_000;

/** A quote of Gamma and its signature. */
interface SignedQuote {
  quote: FxQuote;
  quoteSignature: Hex;
}

/** One signed cross-currency payment and its payer. */
interface FxItem {
  body: Awaited<ReturnType<typeof signFxPayment>>["body"];
  id: Hex;
  payment: FxPayment;
  wallet: Address;
}

/** A transaction the relayer's wallet got mined, with its receipt. */
interface Mined {
  tx: Transaction;
  receipt: TransactionReceipt;
}

/**
 * Smart-account (ERC-1271) payers' cross-currency payments against `batch.gasCap`. FX batches are sized by
 * eth_estimateGas, since a wallet's check may use up to 200,000 gas: a batch whose estimate plus margin exceeds
 * the cap is halved until it fits, and a payment that does not fit alone fails with `GasCapExceeded`.
 */
describe("relayer cross-currency batches of smart-account payers against the gas cap (Hardhat, EDR)", function () {
  let net: TestNetwork;
  let quoteKey: Hex;

  before(async function () {
    net = await deployTestNetwork();
    [quoteKey] = (await relayerKeys(net, 1, providerAdmin(net))) as [Hex];
  });

  after(async function () {
    await net.close();
  });

  /**
   * `count` payments to `merchant` at `quote`, each from a new smart account (greedy with `spinsOf(i)` spins if
   * that is defined), of distinct amounts and so distinct QR hashes.
   */
  async function signedPayments(
    count: number,
    spinsOf: (index: number) => number | undefined,
    quote: SignedQuote,
    merchant: Address,
  ): Promise<FxItem[]> {
    const items: FxItem[] = [];
    for (let i = 0; i < count; i++) {
      const { ownerKey, wallet } = await smartAccountCustomer(net, DEPOSIT, spinsOf(i));
      const { body, id, payment } = await signFxPayment(net, ownerKey, quote.quote, quote.quoteSignature, {
        payee: merchant,
        receiveAmount: 100_00n + BigInt(i),
        payer: wallet,
      });
      items.push({ body, id, payment, wallet });
    }
    return items;
  }

  /** Gas of `item`'s wallet check on its own (beyond the 21,000 of any transaction). */
  async function checkGas(item: FxItem): Promise<bigint> {
    const gas = await net.publicClient.estimateGas({
      to: item.wallet,
      data: encodeFunctionData({
        abi: erc1271Abi,
        functionName: "isValidSignature",
        args: [item.id, item.body.signature as Hex],
      }),
    });
    return gas - 21_000n;
  }

  /** eth_estimateGas of `settleFxPayments(items)` from `sender`, encoded here rather than by the relayer. */
  function estimate(sender: Address, items: readonly FxItem[], quote: SignedQuote): Promise<bigint> {
    const data = encodeFunctionData({
      abi: fxSettlementAbi,
      functionName: "settleFxPayments",
      args: [
        items.map((item) => ({
          quote: quote.quote,
          quoteSignature: quote.quoteSignature,
          payment: item.payment,
          payerSignature: item.body.signature as Hex,
        })),
      ],
    });
    return net.publicClient.estimateGas({ account: sender, to: net.deployment.fx, data });
  }

  /** The gas limit the relayer would sign for `items` now: the estimate plus its margin. */
  async function signedGas(sender: Address, items: readonly FxItem[], quote: SignedQuote): Promise<bigint> {
    const gas = await estimate(sender, items, quote);
    return gas + (gas * MARGIN_PERCENT + 99n) / 100n;
  }

  /**
   * The in-process network as the relayer's transport, recording the payers of each FX batch it estimates:
   * the batches it tried before it split them.
   */
  function recordingTransport(estimated: Address[][]): Transport {
    return edrTransport(net, (request) => {
      if (request.method !== "eth_estimateGas") return;
      const [tx] = request.params as [{ to?: Address; data?: Hex; input?: Hex }];
      const data = tx.data ?? tx.input;
      if (tx.to !== undefined && isAddressEqual(tx.to, net.deployment.fx) && data !== undefined) {
        const { args: decoded } = decodeFunctionData({ abi: fxSettlementAbi, data });
        const [requests] = decoded as readonly [readonly { payment: { payer: Address } }[]];
        estimated.push(requests.map((item) => item.payment.payer));
      }
    });
  }

  /** Every transaction `sender` got mined since `fromBlock`. */
  async function minedFrom(sender: Address, fromBlock: bigint): Promise<Mined[]> {
    const mined: Mined[] = [];
    const head = await net.publicClient.getBlockNumber();
    for (let number = fromBlock; number <= head; number++) {
      const block = await net.publicClient.getBlock({ blockNumber: number, includeTransactions: true });
      for (const tx of block.transactions) {
        if (!isAddressEqual(tx.from, sender)) continue;
        mined.push({ tx, receipt: await net.publicClient.getTransactionReceipt({ hash: tx.hash }) });
      }
    }
    return mined;
  }

  /**
   * Starts Alpha's relayer with one new hot wallet and `batch` settings, posts `items` at once and waits up to
   * `timeoutMs` until each it accepted is final. With `fxMaxItems` of them the batch is due the moment the last
   * arrives; the long window keeps anything from going out before. Returns the answers and final views by id,
   * the payers of each batch the relayer estimated, and every transaction its wallet got mined.
   */
  async function settleThroughRelayer(
    items: readonly FxItem[],
    fromBlock: bigint,
    batch: { fxMaxItems: number; gasCap?: number },
    timeoutMs = 30_000,
  ): Promise<{
    answers: Map<Hex, Answer>;
    final: Map<string, Record<string, unknown>>;
    estimated: Address[][];
    mined: Mined[];
  }> {
    const { dir, cleanup } = await tempDir();
    const keys = await relayerKeys(net, 1);
    const estimated: Address[][] = [];
    let relayer: Relayer | undefined;
    try {
      relayer = await startTestRelayer(
        testConfig(net, dir, "http://unused.invalid", {
          chain: { fx: net.deployment.fx },
          // Per-payment budgets so low that their first cut (`fittingPrefix`) takes the whole batch, whatever
          // the budget formula: what these tests check is that the estimate splits it.
          batch: { windowMs: 2_000, gasPerFxPayment: 1, gasPerErc1271Payment: 1, ...batch },
          // Every test waits for its payments first: a drain at stop only has what can never go out.
          shutdown: { drainTimeoutMs: 1_000 },
        }),
        keys,
        { transport: recordingTransport(estimated) },
      );
      const url = relayer.url;
      const posted = await Promise.all(items.map((item) => call(url, "POST", "/v1/fx-payments", item.body)));
      const answers = new Map(items.map((item, i) => [item.id, posted[i] as Answer]));
      const accepted = items.filter((item) => answers.get(item.id)?.status === 202).map((item) => item.id);
      const final = await waitForFinal(url, accepted, timeoutMs, "fx-payments").catch(
        async (error: unknown) => {
          // Why the relayer is stuck, as its readiness check says (its last batch error among them).
          const ready = await call(url, "GET", "/readyz");
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`${message}; readiness: ${JSON.stringify(ready.body)}`, { cause: error });
        },
      );
      return {
        answers,
        final,
        estimated,
        mined: await minedFrom(privateKeyToAccount(first(keys)).address, fromBlock),
      };
    } finally {
      try {
        await relayer?.stop();
      } finally {
        await cleanup();
      }
    }
  }

  /**
   * Checks what the wallet got mined: each a successful settleFxPayments whose signed gas limit (so its gas
   * used) is within `cap` and which did not use all of it (running out of gas does), and together exactly the
   * transactions the settled payments name. Returns how many payments each carried.
   */
  function expectTransactionsUnderCap(
    mined: readonly Mined[],
    cap: bigint,
    settled: readonly { id: Hex; txHash: Hex }[],
  ): number[] {
    for (const { tx, receipt } of mined) {
      expect(tx.to !== null && isAddressEqual(tx.to, net.deployment.fx), "sent to FxSettlement").to.equal(
        true,
      );
      expect(receipt.status, `${tx.hash} succeeded`).to.equal("success");
      expect(tx.gas, `${tx.hash}'s gas limit within the cap`).to.be.at.most(cap);
      expect(receipt.gasUsed, `${tx.hash} did not run out of gas`).to.be.lessThan(tx.gas);
    }
    const hashes = mined.map(({ tx }) => tx.hash);
    expect(new Set(settled.map(({ txHash }) => txHash))).to.deep.equal(
      new Set(hashes),
      "every mined transaction carried settled payments, and each settled payment's is one of them",
    );
    return hashes.map((hash) => settled.filter(({ txHash }) => txHash === hash).length);
  }

  /** The positions both legs move: Alpha's CNY, Gamma's CNY and HKD reserves, Beta's HKD. */
  async function positions() {
    return {
      alphaCny: await position(net, net.bankA, CNY),
      gammaCny: await position(net, providerBank(net), CNY),
      gammaHkd: await position(net, providerBank(net), HKD),
      betaHkd: await position(net, net.bankB, HKD),
    };
  }

  /** Checks each payer paid exactly its settled payment, and each bank's position moved by their totals. */
  async function expectBalances(
    before: Awaited<ReturnType<typeof positions>>,
    settled: readonly FxItem[],
    unsettled: readonly FxItem[] = [],
  ): Promise<void> {
    const ledger = ledgerAs(net, net.adminA);
    for (const item of settled) {
      expect(await ledger.read.balanceOf([item.wallet, CNY])).to.equal(DEPOSIT - item.payment.payAmount);
    }
    for (const item of unsettled) {
      expect(await ledger.read.balanceOf([item.wallet, CNY])).to.equal(
        DEPOSIT,
        "an unsettled payer paid nothing",
      );
    }
    const paid = settled.reduce((sum, item) => sum + item.payment.payAmount, 0n);
    const received = settled.reduce((sum, item) => sum + item.payment.receiveAmount, 0n);
    expect(await positions()).to.deep.equal({
      alphaCny: { reserves: before.alphaCny.reserves - paid, deposits: before.alphaCny.deposits - paid },
      gammaCny: { reserves: before.gammaCny.reserves + paid, deposits: before.gammaCny.deposits },
      gammaHkd: { reserves: before.gammaHkd.reserves - received, deposits: before.gammaHkd.deposits },
      betaHkd: { reserves: before.betaHkd.reserves + received, deposits: before.betaHkd.deposits + received },
    });
  }

  it("splits a batch of smart-account payments the cap cannot take whole into transactions under it, settling each once", async function () {
    // Ten payers whose wallets' checks each use most of the 200,000 gas allowed: about 255,000 gas a payment.
    const count = 10;
    const cap = 1_800_000;
    const quote = await signQuote(net, quoteKey);
    const { address: merchant } = await hkdMerchant(net);
    const items = await signedPayments(count, () => GREEDY_SPINS, quote, merchant);

    // Premises, measured from a relayer key before anything settles: each wallet's check uses most of its
    // allowance; one payment fits the cap with the margin, all of them do not.
    expect(await checkGas(first(items)))
      .to.be.above(180_000n)
      .and.below(ERC1271_GAS);
    const probe = privateKeyToAccount(first(await relayerKeys(net, 1))).address;
    expect(await signedGas(probe, items.slice(0, 1), quote)).to.be.at.most(BigInt(cap));
    expect(await signedGas(probe, items, quote)).to.be.above(BigInt(cap));

    const before = await positions();
    const fromBlock = await net.publicClient.getBlockNumber();
    const { answers, final, estimated, mined } = await settleThroughRelayer(items, fromBlock, {
      gasCap: cap,
      fxMaxItems: count,
    });
    expect([...answers.values()].map((answer) => answer.status)).to.deep.equal(items.map(() => 202));
    expect(items.map((item) => final.get(item.id)?.status)).to.deep.equal(items.map(() => "settled"));

    await expectFxSettledOnce(net, {
      payments: items,
      quotes: [quote.quote],
      merchant,
      merchantBefore: 0n,
      fromBlock,
    });
    await expectBalances(before, items);

    const perTransaction = expectTransactionsUnderCap(
      mined,
      BigInt(cap),
      items.map((item) => ({ id: item.id, txHash: final.get(item.id)?.txHash as Hex })),
    );
    expect(perTransaction.length, "more than one transaction").to.be.above(1);
    expect(Math.max(...perTransaction), "transactions of several payments, not one each").to.be.above(1);
    // The relayer estimated all ten together (due at once, none cut by the budget), found them over the cap,
    // and halved.
    expect(estimated[0], "the first estimate covered the whole batch").to.have.length(count);
  });

  it("fails a smart-account payment no transaction under the cap can carry with GasCapExceeded, and settles the rest of its batch", async function () {
    // Six OwnedSmartAccount payers (about 70,000 gas a payment) and, fourth, a greedy one (about 255,000).
    const count = 7;
    const cap = 320_000;
    const quote = await signQuote(net, quoteKey);
    const { address: merchant } = await hkdMerchant(net);
    const items = await signedPayments(count, (i) => (i === 3 ? GREEDY_SPINS : undefined), quote, merchant);
    const greedy = items[3] as FxItem;
    const others = items.filter((item) => item !== greedy);

    // Premises: each other payment fits alone with the margin; the greedy one alone exceeds the cap even
    // without it, so no margin setting would let it through.
    const probe = privateKeyToAccount(first(await relayerKeys(net, 1))).address;
    for (const item of others) expect(await signedGas(probe, [item], quote)).to.be.at.most(BigInt(cap));
    expect(await estimate(probe, [greedy], quote)).to.be.above(BigInt(cap));

    const before = await positions();
    const fromBlock = await net.publicClient.getBlockNumber();
    const { answers, final, estimated, mined } = await settleThroughRelayer(items, fromBlock, {
      gasCap: cap,
      fxMaxItems: count,
    });
    expect([...answers.values()].map((answer) => answer.status)).to.deep.equal(items.map(() => 202));

    expect(final.get(greedy.id)).to.deep.include({ status: "failed", reason: "GasCapExceeded" });
    expect(final.get(greedy.id)).not.to.have.property("txHash");
    expect(others.map((item) => final.get(item.id)?.status)).to.deep.equal(others.map(() => "settled"));
    // Only the others settled, none was rejected, and the quote metered only theirs.
    await expectFxSettledOnce(net, {
      payments: others,
      quotes: [quote.quote],
      merchant,
      merchantBefore: 0n,
      fromBlock,
    });
    await expectBalances(before, others, [greedy]);

    const perTransaction = expectTransactionsUnderCap(
      mined,
      BigInt(cap),
      others.map((item) => ({ id: item.id, txHash: final.get(item.id)?.txHash as Hex })),
    );
    expect(perTransaction.length, "more than one transaction").to.be.above(1);
    // The greedy payment was estimated with all the others first, then alone, before it failed.
    const isGreedy = (payer: Address) => isAddressEqual(payer, greedy.wallet);
    expect(estimated[0], "the first estimate covered the whole batch").to.have.length(count);
    expect(estimated.some((payers) => payers.length === 1 && payers.every(isGreedy))).to.equal(true);
  });

  it("refuses a payment whose wallet's check needs more gas than FxSettlement allows, and settles the others", async function () {
    // Three OwnedSmartAccount payers and, second, one whose wallet's check needs about 240,000 gas: on chain
    // FxSettlement gives it 200,000, so that payment can never settle. Intake asks the wallet with that much gas
    // and refuses it. (Accepted, it once held up every cross-currency batch: EDR refuses to estimate a batch in
    // which an inner call runs out of gas, and the relayer retried the whole batch until the payment expired.)
    const count = 4;
    const quote = await signQuote(net, quoteKey);
    const { address: merchant } = await hkdMerchant(net);
    const items = await signedPayments(
      count,
      (i) => (i === 1 ? OVER_ALLOWANCE_SPINS : undefined),
      quote,
      merchant,
    );
    const over = items[1] as FxItem;
    const others = items.filter((item) => item !== over);
    expect(await checkGas(over)).to.be.above(ERC1271_GAS);

    const before = await positions();
    const fromBlock = await net.publicClient.getBlockNumber();
    // The others settle within a few seconds of the window; ten is plenty.
    const { answers, final } = await settleThroughRelayer(items, fromBlock, { fxMaxItems: count }, 10_000);
    for (const item of others) expect(answers.get(item.id)?.status).to.equal(202);
    expect(others.map((item) => final.get(item.id)?.status)).to.deep.equal(others.map(() => "settled"));
    expect(answers.get(over.id)?.status).to.equal(422);
    expect(answers.get(over.id)?.body.error).to.include({ code: "SIGNATURE_INVALID" });

    // Only the others settled, each once.
    const { settled } = await fxOutcomeLogs(net, fromBlock);
    expect(settled.map((log) => String(log.args.paymentId))).to.have.members(others.map((item) => item.id));
    await expectBalances(before, others, [over]);
  });
});
