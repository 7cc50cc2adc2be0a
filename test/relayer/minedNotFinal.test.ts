import { expect } from "chai";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { ApiErrorCode } from "../../src/relayer/api/errorCodes.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { createLedgerView } from "../../src/relayer/validation/ledgerView.ts";
import { call, postPayment, waitForFinal } from "./helpers/http.ts";
import {
  CNY,
  confirm,
  customer,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  signPayment,
  type TestNetwork,
} from "./helpers/network.ts";
import { edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

/**
 * A payment whose batch is mined but not yet final is in the ledger's balance and daily spending, and still
 * queued in the relayer's store. Intake must count it once: a customer who can afford two payments is not
 * refused the second while the first gathers confirmations, and one who cannot is refused. On Hardhat's
 * in-process network with automine, so a block is mined only when something is sent.
 */
describe("relayer intake: payments mined but not yet final (Hardhat, EDR)", function () {
  let net: TestNetwork;
  let cleanup: () => Promise<void>;
  /** Three confirmations, and every account read afresh: the reads see what is mined. */
  let deep: Relayer;
  /** One confirmation, accounts cached for a minute: our own settlements keep the cache exact. */
  let cached: Relayer;

  before(async function () {
    net = await deployTestNetwork();
    const dir = await tempDir();
    cleanup = dir.cleanup;
    const relayer = async (name: string, overrides: Record<string, unknown>) =>
      startTestRelayer(
        testConfig(net, dir.dir, "http://unused.invalid", {
          instanceId: name,
          store: { sqlitePath: `${dir.dir}/${name}.db` },
          ...overrides,
        }),
        await relayerKeys(net, 1),
        { transport: edrTransport(net) },
      );
    deep = await relayer("deep", { chain: { confirmations: 3 }, validation: { accountCacheMs: 0 } });
    cached = await relayer("cached", { validation: { accountCacheMs: 60_000 } });
  });

  after(async function () {
    await deep.stop();
    await cached.stop();
    await net.close();
    await cleanup();
  });

  const pay = async (relayer: Relayer, key: Hex, amount: bigint, nonce: bigint) => {
    const signed = await signPayment(net, key, payment(net, key, amount, nonce));
    return { id: idOf(net, signed), answer: await postPayment(relayer.url, signed) };
  };
  const accepted = async (relayer: Relayer, key: Hex, amount: bigint, nonce: bigint): Promise<Hex> => {
    const { id, answer } = await pay(relayer, key, amount, nonce);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    return id;
  };
  const refused = async (relayer: Relayer, key: Hex, amount: bigint, nonce: bigint, code: ApiErrorCode) => {
    const { answer } = await pay(relayer, key, amount, nonce);
    expect(answer.body.error, JSON.stringify(answer.body)).to.include({ code });
  };
  /** Waits until the payment's transaction is mined, and checks it is not final yet. */
  const mined = async (id: Hex) => {
    for (const end = Date.now() + 20_000; Date.now() < end;) {
      const { body } = await call(deep.url, "GET", `/v1/payments/${id}`);
      if (body.blockNumber !== undefined) {
        expect(body).to.include({ status: "submitted", confirmations: 1 });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`payment ${id} not mined`);
  };
  const mine = (blocks: number) =>
    net.connection.provider.request({ method: "hardhat_mine", params: [`0x${blocks.toString(16)}`] });
  const limit = async (key: Hex, dailyLimit: bigint) =>
    confirm(
      net,
      ledgerAs(net, net.adminA).write.setCustomerLimit([privateKeyToAccount(key).address, CNY, dailyLimit]),
    );

  it("counts a mined payment once against the balance", async function () {
    const key = await customer(net, 100_00n);
    const first = await accepted(deep, key, 40_00n, 0n);
    await mined(first);
    // The ledger holds 60 now and the first payment is still queued: 40 more fits, 30 after that does not.
    const second = await accepted(deep, key, 40_00n, 1n);
    await refused(deep, key, 30_00n, 2n, "INSUFFICIENT_BALANCE");
    await mined(second);
    await mine(2);
    const final = await waitForFinal(deep.url, [first, second], 20_000);
    expect([...final.values()].map((item) => item.status)).to.deep.equal(["settled", "settled"]);
    await accepted(deep, key, 20_00n, 2n);
  });

  it("counts a mined payment once against the daily limit", async function () {
    const key = await customer(net, 1_000_00n);
    await limit(key, 100_00n);
    const first = await accepted(deep, key, 60_00n, 0n);
    await mined(first);
    const second = await accepted(deep, key, 40_00n, 1n);
    await refused(deep, key, 1n, 2n, "DAILY_LIMIT_EXCEEDED");
    await mined(second);
    await mine(2);
    await waitForFinal(deep.url, [first, second], 20_000);
  });

  it("keeps a cached daily limit up to date with our own settlements", async function () {
    const key = await customer(net, 1_000_00n);
    await limit(key, 100_00n);
    const first = await accepted(cached, key, 60_00n, 0n);
    const final = await waitForFinal(cached.url, [first], 20_000);
    expect(final.get(first.toLowerCase())).to.include({ status: "settled" });
    // The limit was read (and cached) before the first payment settled; the ledger has 40 left today.
    await refused(cached, key, 50_00n, 1n, "DAILY_LIMIT_EXCEEDED");
    await accepted(cached, key, 40_00n, 1n);
  });

  it("applies our settlements to a cached read only if it was read before their block", async function () {
    const key = await customer(net, 100_00n);
    await limit(key, 100_00n);
    const payer = privateKeyToAccount(key).address;
    const head = Number(await net.publicClient.getBlockNumber());
    const view = await createLedgerView(net.publicClient, net.deployment.ledger, 60_000, () => head);
    const read = async () => ({
      balance: (await view.account(payer, CNY)).balance,
      spent: (await view.customerLimit(payer, CNY)).spentToday,
    });
    expect(await read()).to.deep.equal({ balance: 100_00n, spent: 0n });
    const settled = { signer: payer, currency: CNY, amount: 10_00n, nonce: 0n, payment: true };
    view.settled({ ...settled, block: head });
    expect(await read()).to.deep.equal({ balance: 100_00n, spent: 0n }, "in the block read: in it already");
    view.settled({ ...settled, nonce: 1n, block: head + 1 });
    expect(await read()).to.deep.equal({ balance: 90_00n, spent: 10_00n });
    view.settled({ ...settled, nonce: 2n, payment: false, block: head + 2 });
    expect(await read()).to.deep.equal({ balance: 80_00n, spent: 10_00n }, "a refund spends no limit");
  });

  it("reads at the node's newest block when the node cannot answer at the relayer's", async function () {
    const key = await customer(net, 100_00n);
    const payer = privateKeyToAccount(key).address;
    const newest = Number(await net.publicClient.getBlockNumber());
    // As behind a load balancer: the relayer saw a head this node has not reached.
    const view = await createLedgerView(net.publicClient, net.deployment.ledger, 60_000, () => newest + 5);
    expect(await view.account(payer, CNY)).to.include({ balance: 100_00n, block: newest });
  });
});
