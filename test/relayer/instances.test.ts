import { expect } from "chai";
import type { Hex } from "viem";

import type { Relayer } from "../../src/relayer/relayer.ts";
import { postPayment, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  settledOnChain,
  signPaymentFast,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { dropSchema, POSTGRES_URL, requirePostgres, uniqueSchema } from "./helpers/postgres.ts";
import { edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

describe("two relayer instances sharing one PostgreSQL queue (Hardhat, EDR)", function () {
  const schema = uniqueSchema();
  let net: TestNetwork | undefined;
  const relayers: Relayer[] = [];
  let cleanup: (() => Promise<void>) | undefined;

  before(async function () {
    await requirePostgres(this);
    net = await deployTestNetwork();
    const temp = await tempDir();
    cleanup = temp.cleanup;
    for (const instance of ["bank-a-1", "bank-a-2"]) {
      const config = testConfig(net, temp.dir, "http://unused.invalid", {
        instanceId: instance,
        store: { kind: "postgres", postgresUrl: POSTGRES_URL, postgresSchema: schema },
        batch: { maxItems: 20, windowMs: 50 },
      });
      // Each instance has its own hot wallets; the queue is what they share.
      relayers.push(
        await startTestRelayer(config, await relayerKeys(net, 2), { transport: edrTransport(net) }),
      );
    }
  });

  after(async function () {
    for (const relayer of relayers) await relayer.stop();
    await net?.close();
    await cleanup?.();
    await dropSchema(schema).catch(() => undefined);
  });

  it("settles every payment exactly once, whichever instance took it in, with both instances sending batches", async function () {
    const chain = net as TestNetwork;
    const [one, two] = relayers as [Relayer, Relayer];
    const payers: Hex[] = [];
    for (let i = 0; i < 8; i++) payers.push(await customer(chain, 1_000_00n));
    const merchantBefore = await ledgerAs(chain, chain.adminB).read.balanceOf([chain.merchant, CNY]);
    const signed = Array.from({ length: 240 }, (_, i) => {
      const key = payers[i % payers.length] as Hex;
      return signPaymentFast(chain, key, payment(chain, key, BigInt(100 + i), BigInt(Math.floor(i / 8))));
    });
    // Each payment goes to one instance; a tenth also to the other, as a client retrying elsewhere would.
    const answers = await Promise.all(
      signed.flatMap((s, i) => {
        const first = postPayment((i % 2 === 0 ? one : two).url, s);
        return i % 10 === 0 ? [first, postPayment((i % 2 === 0 ? two : one).url, s)] : [first];
      }),
    );
    for (const answer of answers) expect(answer.status).to.be.oneOf([200, 202]);
    expect(answers.filter((answer) => answer.status === 202)).to.have.length(signed.length);

    const ids = signed.map((s) => idOf(chain, s));
    const final = await waitForFinal(one.url, ids, 90_000);
    const onChain = await settledOnChain(chain);
    for (const id of ids) {
      expect(final.get(id)).to.include({ status: "settled" });
      expect(onChain.get(id)).to.equal(1, `payment ${id} settled exactly once`);
    }
    const total = signed.reduce((sum, s) => sum + BigInt(s.payment.amount), 0n);
    expect(await ledgerAs(chain, chain.adminB).read.balanceOf([chain.merchant, CNY])).to.equal(
      merchantBefore + total,
    );

    // Both instances took batches from the shared queue: the senders include wallets of each.
    const senders = new Set<string>();
    for (const hash of new Set([...final.values()].map((view) => view.txHash as Hex))) {
      senders.add((await chain.publicClient.getTransaction({ hash })).from.toLowerCase());
    }
    for (const relayer of relayers) {
      const own = relayer.wallets.filter((wallet) => senders.has(wallet.toLowerCase()));
      expect(own, `${relayer.instance} sent batches`).to.not.be.empty;
    }
  });
});
