import { expect } from "chai";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  decodePaymentTerms,
  quoteStructHash,
  type FxPayment,
  type FxQuote,
  type WireSignedFxPayment,
  type WireSignedPayment,
} from "../../src/protocol/index.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import {
  CNY,
  HKD,
  expectFxSettledOnce,
  hkdMerchant,
  position,
  providerAdmin,
  providerBank,
  signFxPayment,
  signQuote,
} from "./helpers/fx.ts";
import { call, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  ledgerAs,
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
 * whole test stays within a few tens of seconds on the CI machine. Every fourth is cross-currency (CNY at Alpha
 * to HKD at Beta at Gamma's quote), from payers of its own, so both kinds of batch are in flight at each kill.
 */
const PAYMENTS = Number(process.env.QRSETTLE_CRASH_PAYMENTS ?? 2_000);
const PER_PAYER = 50;
const FX_EVERY = 4;
/**
 * Quotes the cross-currency payments take turns using. Each may deliver far more than all of them together and
 * stays valid for an hour (neither contract nor relayer bounds a quote's window), so none runs out or expires
 * during the test, and any rejection on chain is a fault.
 */
const QUOTES = 3;
const QUOTE_CAPACITY = 100_000_00n;
const QUOTE_VALIDITY_SECONDS = 3_600;
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

  it(`loses none of ${PAYMENTS} accepted payments, cross-currency included, and settles each exactly once`, async function () {
    this.timeout(300_000);
    const giveUpAt = Date.now() + 280_000;
    const keys = await relayerKeys(net, 2);
    // Gamma's quotes are signed by a relayer key of Gamma, as its relayer would sign them.
    const [quoteKey] = (await relayerKeys(net, 1, providerAdmin(net))) as [Hex];
    const { address: fxMerchant } = await hkdMerchant(net);
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const config = testConfig(net, temp.dir, anvil.url, {
      instanceId: "crash-test",
      chain: { fx: net.deployment.fx },
      batch: { windowMs: 50, maxItems: 150 },
      wallets: { maxInFlight: 2 },
    });

    const fxCount = Math.floor(PAYMENTS / FX_EVERY);
    const signed: WireSignedPayment[] = [];
    for (let start = 0; start < PAYMENTS - fxCount; start += PER_PAYER) {
      const key = await customer(net, 1_000_000n);
      for (let nonce = 0; nonce < PER_PAYER && start + nonce < PAYMENTS - fxCount; nonce++) {
        signed.push(signPaymentFast(net, key, payment(net, key, 1n + BigInt(nonce), BigInt(nonce))));
      }
    }
    const ids = signed.map((s) => idOf(net, s));
    const quotes: { quote: FxQuote; quoteSignature: Hex }[] = [];
    for (let i = 0; i < QUOTES; i++) {
      quotes.push(await signQuote(net, quoteKey, { maxToAmount: QUOTE_CAPACITY }, QUOTE_VALIDITY_SECONDS));
    }
    const fxSigned: { body: WireSignedFxPayment; id: Hex; payment: FxPayment }[] = [];
    const fxPayers: Hex[] = [];
    for (let start = 0; start < fxCount; start += PER_PAYER) {
      const key = await customer(net, 1_000_000n);
      fxPayers.push(key);
      for (let nonce = 0; nonce < PER_PAYER && start + nonce < fxCount; nonce++) {
        const { quote, quoteSignature } = quotes[(start + nonce) % QUOTES] as (typeof quotes)[number];
        fxSigned.push(
          await signFxPayment(net, key, quote, quoteSignature, {
            payee: fxMerchant,
            receiveAmount: 100n + BigInt(nonce),
            nonce: BigInt(nonce),
          }),
        );
      }
    }
    const fxIds = fxSigned.map((s) => s.id);
    const fxById = new Map(fxSigned.map((s) => [s.id, s.payment]));
    const totalReceived = fxSigned.reduce((sum, s) => sum + s.payment.receiveAmount, 0n);
    const totalPaid = fxSigned.reduce((sum, s) => sum + s.payment.payAmount, 0n);

    // Every FX_EVERY-th request is cross-currency; the order is the clients' posting order.
    const accepted = new Set<string>();
    const acceptedFx = new Set<string>();
    const requests: { path: string; body: unknown; accepted: Set<string> }[] = [];
    for (let i = 0, same = 0, fx = 0; i < PAYMENTS; i++) {
      requests.push(
        i % FX_EVERY === FX_EVERY - 1
          ? { path: "/v1/fx-payments", body: fxSigned[fx++]?.body, accepted: acceptedFx }
          : { path: "/v1/payments", body: signed[same++], accepted },
      );
    }
    const gamma = providerBank(net);
    const gammaBefore = { cny: await position(net, gamma, CNY), hkd: await position(net, gamma, HKD) };
    const fromBlock = await net.publicClient.getBlockNumber();

    relayer = await spawnRelayer(config, keys, temp.dir);
    let url = relayer.url;
    let kills = 0;
    let posting = true;
    // A function, so the loop below reads the flag the clients clear while it sleeps.
    const stillPosting = () => posting;

    // Clients post every request until the relayer acknowledges it, retrying through crashes, as wallets do.
    let next = 0;
    const client = async () => {
      for (let index = next++; index < requests.length; index = next++) {
        const request = requests[index] as (typeof requests)[number];
        for (;;) {
          const answer = await call(url, "POST", request.path, request.body).catch(() => undefined);
          if (answer !== undefined && (answer.status === 202 || answer.status === 200)) {
            request.accepted.add(String(answer.body.id));
            break;
          }
          if (answer !== undefined && answer.status < 500)
            throw new Error(`${request.path} ${index} refused: ${JSON.stringify(answer.body)}`);
          if (Date.now() > giveUpAt) throw new Error(`${request.path} ${index} never acknowledged`);
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

    // Wait until every request is final.
    const final = (ids: readonly string[], collection: "payments" | "fx-payments") =>
      waitForFinal(url, ids, Math.max(0, giveUpAt - Date.now()), collection).catch((error: unknown) => {
        throw new Error(`${String(error)}:\n${(relayer as RelayerProcess).output().slice(-3_000)}`);
      });
    const [statuses, fxStatuses] = await Promise.all([final(ids, "payments"), final(fxIds, "fx-payments")]);
    const notSettled = (found: Map<string, Record<string, unknown>>) =>
      [...found.values()].filter((item) => item.status !== "settled");

    // Same-currency payments: the ledger's PaymentSettled and PaymentRejected. A cross-currency payment emits
    // neither (the ledger logs it as CrossCurrencySettled, the FX contract logs its rejections), so these compare
    // the same-currency payments alone.
    const { settled: settledLogs, rejected: rejectedLogs } = await outcomeLogs(net, fromBlock);
    const settledOnChain = settledLogs.map((log) => String(log.args.paymentId));

    expect(killsDuringLoad).to.be.at.least(1, "killed while payments arrived");
    expect(accepted.size).to.equal(ids.length, "every payment was eventually acknowledged");
    expect(notSettled(statuses)).to.deep.equal([], "every payment settled");
    expect(settledOnChain.length).to.equal(new Set(settledOnChain).size, "no payment settled twice");
    expect(new Set(settledOnChain)).to.deep.equal(accepted, "settled on chain = accepted by the relayer");
    expect(rejectedLogs.map((log) => log.args.reason)).to.deep.equal(
      [],
      "no batch carried a payment already settled",
    );
    const ours = new Set<Hex>(ids);
    expect(settledOnChain.every((id) => ours.has(id as Hex))).to.equal(true);
    const merchantCny = await ledgerAs(net, net.adminA).read.balanceOf([net.merchant, CNY]);
    expect(merchantCny).to.equal(
      signed.reduce((sum, s) => sum + BigInt(s.payment.amount), 0n),
      "the merchant was paid each payment once",
    );

    // Cross-currency payments: the ledger's CrossCurrencySettled, the FX contract's PaymentRejected and QuoteUsed.
    expect(acceptedFx).to.deep.equal(new Set(fxIds), "every FX payment was acknowledged, under its own id");
    expect(notSettled(fxStatuses)).to.deep.equal([], "every FX payment settled");
    const fx = await expectFxSettledOnce(net, {
      payments: fxSigned,
      quotes: quotes.map(({ quote }) => quote),
      merchant: fxMerchant,
      fromBlock,
    });
    for (const log of fx.settled) {
      const signedFx = fxById.get(log.args.paymentId as Hex) as FxPayment;
      expect(decodePaymentTerms(log.args.payTerms as bigint)).to.deep.equal(
        { amount: signedFx.payAmount, payerBank: net.bankA, payeeBank: gamma, currency: CNY },
        "the pay leg is the one the payer signed",
      );
      expect(decodePaymentTerms(log.args.receiveTerms as bigint)).to.deep.equal(
        { amount: signedFx.receiveAmount, payerBank: gamma, payeeBank: net.bankB, currency: HKD },
        "the receive leg is the one the payer signed",
      );
    }
    // The FX contract metered nothing but our quotes; the payers' CNY and Gamma's reserves moved once.
    const ourQuotes = new Set(quotes.map(({ quote }) => quoteStructHash(quote)));
    expect(fx.used.every((log) => ourQuotes.has(log.args.quoteHash as Hex))).to.equal(
      true,
      "only our quotes",
    );
    const ledger = ledgerAs(net, net.adminA);
    let payersCny = 0n;
    for (const key of fxPayers) {
      payersCny += await ledger.read.balanceOf([privateKeyToAccount(key).address, CNY]);
    }
    expect(payersCny).to.equal(BigInt(fxPayers.length) * 1_000_000n - totalPaid);
    expect((await position(net, gamma, CNY)).reserves).to.equal(gammaBefore.cny.reserves + totalPaid);
    expect((await position(net, gamma, HKD)).reserves).to.equal(gammaBefore.hkd.reserves - totalReceived);
  });
});
