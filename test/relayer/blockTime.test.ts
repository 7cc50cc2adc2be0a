import { expect } from "chai";
import type { Hex } from "viem";

import type { Relayer } from "../../src/relayer/relayer.ts";
import { postPayment, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  payment,
  relayerKeys,
  signPayment,
  type TestNetwork,
} from "./helpers/network.ts";
import { edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

const BLOCK_MS = 400;

describe("relayer on a chain with a block time (EDR, interval mining)", function () {
  let net: TestNetwork;
  let dir: string;
  let cleanup: () => Promise<void>;
  let relayer: Relayer;
  /** The relayer's JSON-RPC calls, by method. */
  const calls = new Map<string, number>();

  before(async function () {
    net = await deployTestNetwork();
    const keys = await relayerKeys(net, 1);
    ({ dir, cleanup } = await tempDir());
    const counting = edrTransport(net, ({ method }) => {
      calls.set(method, (calls.get(method) ?? 0) + 1);
    });
    relayer = await startTestRelayer(
      testConfig(net, dir, "http://unused.invalid", {
        batch: { windowMs: 40, maxItems: 4 },
        wallets: { maxInFlight: 16 },
      }),
      keys,
      { transport: counting },
    );
    await net.connection.provider.request({ method: "evm_setAutomine", params: [false] });
    await net.connection.provider.request({ method: "evm_setIntervalMining", params: [BLOCK_MS] });
  });

  after(async function () {
    await relayer.stop();
    await net.close();
    await cleanup();
  });

  // Hardhat's node answers eth_feeHistory by executing its whole mempool: one read per batch, several batches a
  // block, made the node re-execute each waiting batch several times.
  it("sends several batches a block but reads market fees about once a block", async function () {
    const payers = await Promise.all(Array.from({ length: 4 }, () => customer(net, 1_000_00n)));
    const signed = await Promise.all(
      Array.from({ length: 48 }, (_, i) => {
        const payer = payers[i % payers.length] as Hex;
        return signPayment(
          net,
          payer,
          payment(net, payer, BigInt(100 + i), BigInt(Math.floor(i / payers.length))),
        );
      }),
    );
    const firstBlock = await net.publicClient.getBlockNumber();
    calls.clear();
    // A steady trickle: a few payments every window, for about four blocks.
    for (let i = 0; i < signed.length; i += 2) {
      const answers = await Promise.all(signed.slice(i, i + 2).map((s) => postPayment(relayer.url, s)));
      expect(answers.map((a) => a.status)).to.deep.equal([202, 202].slice(0, answers.length));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const final = await waitForFinal(
      relayer.url,
      signed.map((s) => idOf(net, s)),
      30_000,
    );
    expect([...final.values()].every((view) => view.status === "settled")).to.equal(true);
    const blocks = Number((await net.publicClient.getBlockNumber()) - firstBlock);
    const batches = calls.get("eth_sendRawTransaction") ?? 0;
    const feeReads = calls.get("eth_feeHistory") ?? 0;
    expect(batches).to.be.greaterThan(blocks, "more batches than blocks");
    expect(feeReads).to.be.at.most(
      blocks + 2,
      `${feeReads} fee reads for ${batches} batches in ${blocks} blocks`,
    );
  });
});
