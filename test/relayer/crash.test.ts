import { expect } from "chai";
import type { Hex } from "viem";

import type { WireSignedPayment } from "../../src/protocol/index.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import { call, postPayment } from "./helpers/http.ts";
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
import { spawnRelayer, tempDir, testConfig, type RelayerProcess } from "./helpers/relayer.ts";

/**
 * 2,000 payments by default (`QRSETTLE_CRASH_PAYMENTS` changes it), 50 per payer: enough for several batches
 * to be in every state — queued, signed but unsent, sent, mined but not applied — at each kill, while the
 * whole test stays within a few tens of seconds on the CI machine.
 */
const PAYMENTS = Number(process.env.QRSETTLE_CRASH_PAYMENTS ?? 2_000);
const PER_PAYER = 50;
/** Kills while payments arrive (fewer if the load ends first), and after, while batches are in flight. */
const KILLS_DURING_LOAD = 6;
const KILLS_AFTER_LOAD = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

describe("relayer crash safety: SIGKILL at random moments under load", function () {
  let anvil: AnvilNode;
  let net: TestNetwork;
  let cleanup: () => Promise<void>;
  let relayer: RelayerProcess | undefined;

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    net = await deployTestNetwork({ network: "anvil", url: anvil.url });
  });

  after(async function () {
    relayer?.child.kill("SIGKILL");
    await relayer?.exited;
    await net.close();
    await anvil.stop();
    await cleanup();
  });

  it(`loses none of ${PAYMENTS} accepted payments and settles each exactly once`, async function () {
    this.timeout(300_000);
    const giveUpAt = Date.now() + 280_000;
    const keys = await relayerKeys(net, 2);
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const config = testConfig(net, temp.dir, anvil.url, {
      instanceId: "crash-test",
      batch: { windowMs: 50, maxItems: 150 },
      wallets: { maxInFlight: 2 },
    });
    const signed: WireSignedPayment[] = [];
    for (let start = 0; start < PAYMENTS; start += PER_PAYER) {
      const key = await customer(net, 1_000_000n);
      for (let nonce = 0; nonce < PER_PAYER && start + nonce < PAYMENTS; nonce++) {
        signed.push(signPaymentFast(net, key, payment(net, key, 1n + BigInt(nonce), BigInt(nonce))));
      }
    }
    const ids = signed.map((s) => idOf(net, s));
    const fromBlock = await net.publicClient.getBlockNumber();

    relayer = await spawnRelayer(config, keys, temp.dir);
    let url = relayer.url;
    let kills = 0;
    const accepted = new Set<string>();
    let posting = true;
    // A function, so the loop below reads the flag the clients clear while it sleeps.
    const stillPosting = () => posting;

    // Clients post every payment until the relayer acknowledges it, retrying through crashes, as wallets do.
    let next = 0;
    const client = async () => {
      for (let index = next++; index < signed.length; index = next++) {
        for (;;) {
          const answer = await postPayment(url, signed[index] as WireSignedPayment).catch(() => undefined);
          if (answer !== undefined && (answer.status === 202 || answer.status === 200)) {
            accepted.add(String(answer.body.id));
            break;
          }
          if (answer !== undefined && answer.status < 500)
            throw new Error(`payment ${index} refused: ${JSON.stringify(answer.body)}`);
          if (Date.now() > giveUpAt) throw new Error(`payment ${index} never acknowledged`);
          await sleep(20);
        }
      }
    };
    const restart = async () => {
      const current = relayer as RelayerProcess;
      current.child.kill("SIGKILL");
      await current.exited;
      kills++;
      relayer = await spawnRelayer(config, keys, temp.dir);
      url = relayer.url;
    };
    // Each kill comes at a random moment of the process's life, after it is up (restarting takes seconds).
    const killer = async () => {
      for (let i = 0; i < KILLS_DURING_LOAD && stillPosting(); i++) {
        await sleep(between(300, 1_500));
        if (stillPosting()) await restart();
      }
      await clients;
      for (let i = 0; i < KILLS_AFTER_LOAD; i++) {
        await sleep(between(50, 800));
        await restart();
      }
    };
    const clients = Promise.all(Array.from({ length: 16 }, client)).finally(() => (posting = false));
    await Promise.all([clients, killer()]);
    const killsDuringLoad = kills - KILLS_AFTER_LOAD;

    // Wait until every payment is final.
    const deadline = giveUpAt;
    const statuses = new Map<string, string>();
    while (statuses.size < ids.length) {
      if (Date.now() > deadline)
        throw new Error(
          `${ids.length - statuses.size} payments not final:\n${relayer.output().slice(-3_000)}`,
        );
      let since = "0";
      for (;;) {
        const page = await call(url, "GET", `/v1/payments?since=${since}&limit=1000`);
        for (const item of page.body.items as { id: string; status: string }[]) {
          if (["settled", "rejected", "failed"].includes(item.status)) statuses.set(item.id, item.status);
        }
        since = String(page.body.next);
        if ((page.body.items as unknown[]).length < 1000) break;
      }
      if (statuses.size < ids.length) await sleep(200);
    }

    const { settled: settledLogs, rejected: rejectedLogs } = await outcomeLogs(net, fromBlock);
    const settledOnChain = settledLogs.map((log) => String(log.args.paymentId));

    expect(killsDuringLoad).to.be.at.least(1, "killed while payments arrived");
    expect(accepted.size).to.equal(ids.length, "every payment was eventually acknowledged");
    expect([...statuses.values()].filter((status) => status !== "settled")).to.deep.equal(
      [],
      "every payment settled",
    );
    expect(settledOnChain.length).to.equal(new Set(settledOnChain).size, "no payment settled twice");
    expect(new Set(settledOnChain)).to.deep.equal(accepted, "settled on chain = accepted by the relayer");
    expect(rejectedLogs.map((log) => log.args.reason)).to.deep.equal(
      [],
      "no batch carried a payment already settled",
    );
    const ours = new Set<Hex>(ids);
    expect(settledOnChain.every((id) => ours.has(id as Hex))).to.equal(true);
  });
});
