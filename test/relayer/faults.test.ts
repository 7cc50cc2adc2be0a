import { expect } from "chai";

import type { WireSignedPayment } from "../../src/protocol/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "./helpers/faultProxy.ts";
import { postPayment, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  outcomeLogs,
  payment,
  relayerKeys,
  signPaymentFast,
  type TestNetwork,
} from "./helpers/network.ts";
import { startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

/** Posts until acknowledged: a relayer that cannot read the chain answers 503 and the client retries. */
async function postUntilAccepted(url: string, signed: WireSignedPayment): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await postPayment(url, signed);
    if (answer.status === 202 || answer.status === 200) return;
    if (answer.status !== 503) throw new Error(`refused: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("never accepted");
}

describe("relayer under JSON-RPC faults", function () {
  let anvil: AnvilNode;
  let net: TestNetwork;

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    net = await deployTestNetwork({ network: "anvil", url: anvil.url });
  });

  after(async function () {
    await net.close();
    await anvil.stop();
  });

  /** Runs `count` payments through a relayer whose node connection applies `decide`; returns the proxy. */
  async function settleThrough(
    decide: (method: string) => Fault,
    count: number,
  ): Promise<{ proxy: FaultProxy; relayer: Relayer }> {
    const proxy = await startFaultProxy(anvil.url, decide);
    const { dir, cleanup } = await tempDir();
    const keys = await relayerKeys(net, 2);
    const fromBlock = await net.publicClient.getBlockNumber();
    const relayer = await startTestRelayer(
      testConfig(net, dir, proxy.url, {
        chain: { rpcTimeoutMs: 400, pollIntervalMs: 50 },
        fees: { rebroadcastIntervalMs: 500, stallTimeoutMs: 3_000 },
        batch: { windowMs: 50, maxItems: 40 },
      }),
      keys,
    ).catch(async (error: unknown) => {
      await proxy.close();
      await cleanup();
      throw error;
    });
    try {
      const signed: WireSignedPayment[] = [];
      for (let start = 0; start < count; start += 25) {
        const key = await customer(net, 1_000_000n);
        for (let nonce = 0; nonce < 25 && start + nonce < count; nonce++) {
          signed.push(signPaymentFast(net, key, payment(net, key, 1n, BigInt(nonce))));
        }
      }
      for (let i = 0; i < signed.length; i += 20) {
        await Promise.all(signed.slice(i, i + 20).map((s) => postUntilAccepted(relayer.url, s)));
      }
      const ids = signed.map((s) => idOf(net, s));
      const final = await waitForFinal(relayer.url, ids, 90_000);
      expect([...final.values()].map((view) => view.status)).to.deep.equal(ids.map(() => "settled"));

      const { settled, rejected } = await outcomeLogs(net, fromBlock);
      const onChain = settled.map((log) => String(log.args.paymentId));
      expect(onChain.length).to.equal(new Set(onChain).size, "no payment settled twice");
      expect(new Set(onChain)).to.deep.equal(new Set(ids));
      expect(rejected).to.deep.equal([], "no payment was sent again after it settled");
      return { proxy, relayer };
    } finally {
      try {
        await relayer.stop();
      } finally {
        await proxy.close();
        await cleanup();
      }
    }
  }

  it("settles every payment exactly once when a fifth of all calls are dropped, delayed, failed or duplicated", async function () {
    this.timeout(180_000);
    const faults: Fault[] = ["drop", "delay", "failBefore", "failAfter", "duplicate", "timeoutAfterSend"];
    const anyFault = () => faults[Math.floor(Math.random() * faults.length)] as Fault;
    // A batch is one send, so a run makes only a handful: the first always meets a fault, the rest like any call.
    let sends = 0;
    const { proxy } = await settleThrough((method) => {
      if (method === "eth_sendRawTransaction" && sends++ === 0) return anyFault();
      return Math.random() < 0.2 ? anyFault() : "pass";
    }, 300);
    const sendFaults = [...proxy.applied].filter(([key]) => key.startsWith("eth_sendRawTransaction:"));
    expect(sendFaults.length, JSON.stringify([...proxy.applied])).to.be.greaterThan(0);
  });

  it("finds the receipt of a transaction whose send timed out after the node took it, and never re-signs it", async function () {
    this.timeout(120_000);
    let sends = 0;
    const { proxy, relayer } = await settleThrough((method) => {
      if (method !== "eth_sendRawTransaction") return "pass";
      sends++;
      // Every other send reaches the node but its answer never comes back.
      return sends % 2 === 1 ? "timeoutAfterSend" : "duplicate";
    }, 120);
    expect(proxy.applied.get("eth_sendRawTransaction:timeoutAfterSend")).to.be.greaterThan(0);
    const metrics = await relayer.metrics.registry.getSingleMetricAsString(
      "qrsettle_relayer_broadcasts_total",
    );
    expect(metrics).to.match(/result="timeout"/);
    expect(metrics).to.match(
      /result="(alreadyKnown|nonceTooLow)"/,
      "duplicates were recognised as already submitted",
    );
    const replaced = await relayer.metrics.registry.getSingleMetricAsString(
      "qrsettle_relayer_replacements_total",
    );
    expect(replaced).to.match(/replacements_total 0$/m, "nothing was re-signed");
  });
});
