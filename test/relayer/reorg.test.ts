import { expect } from "chai";
import type { Hex } from "viem";

import type { Relayer } from "../../src/relayer/relayer.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
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

const CONFIRMATIONS = 3;

describe("relayer across a reorg (Anvil, evm_snapshot/evm_revert)", function () {
  let anvil: AnvilNode | undefined;
  let net: TestNetwork;
  let relayer: Relayer | undefined;
  const running = (): Relayer => relayer as Relayer;
  let cleanup: (() => Promise<void>) | undefined;

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    const url = anvil.url;
    net = await deployTestNetwork({ network: "anvil", url });
    const keys = await relayerKeys(net, 1);
    const temp = await tempDir();
    cleanup = temp.cleanup;
    // Anvil mines a block per transaction and none otherwise, so a mined batch stays short of its depth until
    // the test mines more blocks: the window in which the reorg happens.
    relayer = await startTestRelayer(
      testConfig(net, temp.dir, url, { chain: { confirmations: CONFIRMATIONS } }),
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

  /** Polls each payment until its batch is mined (status `submitted` with a block), returning the views. */
  async function untilMined(ids: readonly Hex[]): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const views = await Promise.all(
        ids.map(async (id) => (await call(running().url, "GET", `/v1/payments/${id}`)).body),
      );
      if (views.every((view) => view.status === "submitted" && typeof view.blockNumber === "number")) {
        return views;
      }
      if (Date.now() > deadline) throw new Error(`batches not mined: ${JSON.stringify(views)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("notices its mined batch vanished, re-sends the same signed bytes, and settles each payment once", async function () {
    const payers = [await customer(net, 1_000_00n), await customer(net, 1_000_00n)];
    const merchantBefore = await ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY]);
    const snapshot = (await rpc("evm_snapshot")) as Hex;

    const signed = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const key = payers[i % 2] as Hex;
        return signPayment(net, key, payment(net, key, BigInt(100 + i), BigInt(Math.floor(i / 2))));
      }),
    );
    for (const answer of await Promise.all(signed.map((s) => postPayment(running().url, s)))) {
      expect(answer.status).to.equal(202);
    }
    const ids = signed.map((s) => idOf(net, s));
    const mined = await untilMined(ids);
    const hashesBefore = new Set(mined.map((view) => view.txHash));
    expect((await settledOnChain(net)).size).to.be.at.least(ids.length, "settled in the doomed blocks");

    // The reorg: the chain goes back to before the batches, and a longer branch without them is mined.
    const minedAt = Math.min(...mined.map((view) => view.blockNumber as number));
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    expect(Number(await net.publicClient.getBlockNumber({ cacheTime: 0 }))).to.be.lessThan(minedAt);
    await rpc("anvil_mine", ["0x" + (CONFIRMATIONS + 1).toString(16)]);

    // Blocks keep coming, as they would on a live chain, until everything is final.
    const miner = setInterval(() => void rpc("evm_mine").catch(() => undefined), 100);
    let final: Map<string, Record<string, unknown>>;
    try {
      final = await waitForFinal(running().url, ids, 60_000);
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
    const reorgs = (await running().metrics.reorgs.get()).values.reduce((sum, value) => sum + value.value, 0);
    expect(reorgs).to.be.at.least(1, "the relayer counted the reorg");
  });
});
