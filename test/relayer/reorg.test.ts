import { expect } from "chai";
import type { Address, Hex } from "viem";

import type { Relayer } from "../../src/relayer/relayer.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import {
  HKD,
  expectFxSettledOnce,
  fxOutcomeLogs,
  hkdMerchant,
  providerAdmin,
  quoteUsedOnChain,
  signFxPayment,
  signQuote,
} from "./helpers/fx.ts";
import { call, postPayment, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  settledOnChain,
  signPayment,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

/**
 * Deep enough that none of the test's batches — a payment batch and a cross-currency one, or a few of each if
 * the batch window splits them — is final before the reorg: Anvil mines one block per transaction.
 */
const CONFIRMATIONS = 5;

describe("relayer across a reorg (Anvil, evm_snapshot/evm_revert)", function () {
  let anvil: AnvilNode | undefined;
  let net: TestNetwork;
  let relayer: Relayer | undefined;
  const running = (): Relayer => relayer as Relayer;
  let cleanup: (() => Promise<void>) | undefined;
  /** A relayer key of Gamma, which signs its quotes, and a merchant of Beta with an HKD account. */
  let quoteKey: Hex;
  let fxMerchant: Address;

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    const url = anvil.url;
    net = await deployTestNetwork({ network: "anvil", url });
    const keys = await relayerKeys(net, 1);
    [quoteKey] = (await relayerKeys(net, 1, providerAdmin(net))) as [Hex];
    fxMerchant = (await hkdMerchant(net)).address;
    const temp = await tempDir();
    cleanup = temp.cleanup;
    // Anvil mines a block per transaction and none otherwise, so a mined batch stays short of its depth until
    // the test mines more blocks: the window in which the reorg happens.
    relayer = await startTestRelayer(
      testConfig(net, temp.dir, url, { chain: { confirmations: CONFIRMATIONS, fx: net.deployment.fx } }),
      keys,
    );
  });

  after(async function () {
    // Whatever \`before\` got to: a node left running would keep the test process alive.
    await relayer?.stop();
    await net.close().catch(() => undefined);
    await anvil?.stop();
    await cleanup?.();
  });

  const rpc = (method: string, params: unknown[] = []) => net.connection.provider.request({ method, params });

  /**
   * Polls each payment (or cross-currency payment) until its batch is mined (status `submitted` with a block),
   * returning the views.
   */
  async function untilMined(
    ids: readonly Hex[],
    collection: "payments" | "fx-payments" = "payments",
  ): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const views = await Promise.all(
        ids.map(async (id) => (await call(running().url, "GET", `/v1/${collection}/${id}`)).body),
      );
      if (views.every((view) => view.status === "submitted" && typeof view.blockNumber === "number")) {
        return views;
      }
      if (Date.now() > deadline) throw new Error(`batches not mined: ${JSON.stringify(views)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("notices its mined batches vanished, re-sends the same signed bytes, and settles each payment, cross-currency included, once", async function () {
    const payers = [await customer(net, 1_000_00n), await customer(net, 1_000_00n)];
    const fxPayers = [await customer(net, 1_000_00n), await customer(net, 1_000_00n)];
    const merchantBefore = await ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY]);
    const fxMerchantBefore = await ledgerAs(net, net.adminB).read.balanceOf([fxMerchant, HKD]);
    const { quote, quoteSignature } = await signQuote(net, quoteKey, {}, 600);
    const snapshot = (await rpc("evm_snapshot")) as Hex;

    const signed = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const key = payers[i % 2] as Hex;
        return signPayment(net, key, payment(net, key, BigInt(100 + i), BigInt(Math.floor(i / 2))));
      }),
    );
    // Six cross-currency payments at one quote of Gamma, in batches of their own.
    const fxSigned = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        signFxPayment(net, fxPayers[i % 2] as Hex, quote, quoteSignature, {
          payee: fxMerchant,
          receiveAmount: BigInt(200 + i),
          nonce: BigInt(Math.floor(i / 2)),
        }),
      ),
    );
    const answers = await Promise.all([
      ...signed.map((s) => postPayment(running().url, s)),
      ...fxSigned.map((s) => call(running().url, "POST", "/v1/fx-payments", s.body)),
    ]);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    const ids = signed.map((s) => idOf(net, s));
    const fxIds = fxSigned.map((s) => s.id);
    const fxTotal = fxSigned.reduce((sum, s) => sum + s.payment.receiveAmount, 0n);
    const [mined, fxMined] = await Promise.all([untilMined(ids), untilMined(fxIds, "fx-payments")]);
    const hashesBefore = new Set(mined.map((view) => view.txHash));
    const fxHashesBefore = new Map(fxIds.map((id, i) => [id, fxMined[i]?.txHash]));
    expect((await settledOnChain(net)).size).to.be.at.least(ids.length, "settled in the doomed blocks");
    const fxDoomed = new Set((await fxOutcomeLogs(net)).settled.map((log) => String(log.args.paymentId)));
    expect(
      fxIds.every((id) => fxDoomed.has(id)),
      "FX settled in the doomed blocks",
    ).to.equal(true);
    expect(await quoteUsedOnChain(net, quote)).to.equal(fxTotal, "the quote metered in the doomed blocks");

    // The reorg: the chain goes back to before the batches, and a longer branch without them is mined.
    const minedAt = Math.min(...[...mined, ...fxMined].map((view) => view.blockNumber as number));
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    expect(Number(await net.publicClient.getBlockNumber({ cacheTime: 0 }))).to.be.lessThan(minedAt);
    expect(await quoteUsedOnChain(net, quote)).to.equal(0n, "the reorg took the quote's use back");
    expect(await ledgerAs(net, net.adminB).read.balanceOf([fxMerchant, HKD])).to.equal(
      fxMerchantBefore,
      "the reorg took the HKD merchant's payments back",
    );
    await rpc("anvil_mine", ["0x" + (CONFIRMATIONS + 1).toString(16)]);

    // Blocks keep coming, as they would on a live chain, until everything is final.
    const miner = setInterval(() => void rpc("evm_mine").catch(() => undefined), 100);
    let final: Map<string, Record<string, unknown>>;
    let fxFinal: Map<string, Record<string, unknown>>;
    try {
      [final, fxFinal] = await Promise.all([
        waitForFinal(running().url, ids, 60_000),
        waitForFinal(running().url, fxIds, 60_000, "fx-payments"),
      ]);
    } finally {
      clearInterval(miner);
    }
    const onChain = await settledOnChain(net);
    for (const id of ids) {
      expect(final.get(id)).to.include({ status: "settled" });
      expect(onChain.get(id)).to.equal(1, `payment ${id} settled exactly once`);
    }
    // The same signed transactions were re-sent (same hashes), not re-signed with new nonces.
    expect(new Set([...final.values()].map((view) => view.txHash))).to.deep.equal(hashesBefore);
    const total = signed.reduce((sum, s) => sum + BigInt(s.payment.amount), 0n);
    expect(await ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY])).to.equal(
      merchantBefore + total,
    );

    // Cross-currency payments: each settled once on the canonical chain, in the same transaction as before, with
    // the merchant's HKD and the quote's use counting it once.
    await expectFxSettledOnce(net, {
      payments: fxSigned,
      quotes: [quote],
      merchant: fxMerchant,
      merchantBefore: fxMerchantBefore,
    });
    for (const id of fxIds) {
      expect(fxFinal.get(id)).to.include({ status: "settled" });
      expect(fxFinal.get(id)?.txHash).to.equal(fxHashesBefore.get(id), `FX payment ${id} re-sent as signed`);
    }
    const reorgs = (await running().metrics.reorgs.get()).values.reduce((sum, value) => sum + value.value, 0);
    expect(reorgs).to.be.at.least(1, "the relayer counted the reorg");
  });
});
