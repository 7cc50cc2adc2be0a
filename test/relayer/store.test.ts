import { stat } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { expect } from "chai";
import pg from "pg";
import { keccak256, stringToHex, type Address, type Hex } from "viem";

import { createStore } from "../../src/relayer/store/createStore.ts";
import type { SqlDatabase } from "../../src/relayer/store/sqlDatabase.ts";
import { openSqliteDatabase } from "../../src/relayer/store/sqliteDatabase.ts";
import { SqlStore } from "../../src/relayer/store/sqlStore.ts";
import type { NewAttempt, RelayerStore } from "../../src/relayer/store/types.ts";
import { dropSchema, POSTGRES_URL, requirePostgres, uniqueSchema } from "./helpers/postgres.ts";
import { tempDir } from "./helpers/relayer.ts";
import { figure, storedPayment } from "./helpers/requests.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const WALLET = "0x000000000000000000000000000000000000a11e" as Address;
const OTHER_WALLET = "0x000000000000000000000000000000000000b0b0" as Address;

const id = (label: string): Hex => keccak256(stringToHex(label));

const request = storedPayment;

const attempt = (label: string): NewAttempt => ({
  hash: id(`attempt ${label}`),
  raw: `0x02${"ab".repeat(40)}` as Hex,
  fees: { maxFeePerGas: "100", maxPriorityFeePerGas: "2" },
  cancel: false,
  createdAt: Date.now(),
});

const plenty = { balance: figure(1_000_000n) };

/** The part of a stored cross-currency payment's body the store reads: what it delivers. */
const fxBody = (receiveAmount: bigint) =>
  JSON.stringify({ payment: { receiveAmount: String(receiveAmount) } });

/**
 * A store made before requests had `quote_amount` and transactions `settles_none` (`downgrade` takes an open one
 * back there) gains them when opened, `quote_amount` filled in from the live cross-currency requests' bodies, so
 * their quotes stay metered (a count that reads `settles_none` too).
 */
async function expectColumnsAdded(
  open: () => Promise<RelayerStore>,
  downgrade: () => Promise<void>,
): Promise<void> {
  const quote = id("migrated quote");
  let store = await open();
  await store.init({ chainId: 31337, ledger: LEDGER });
  for (const amount of [70n, 30n])
    await store.admit(
      request({ kind: "fx", paymentId: quote, quoteAmount: amount, body: fxBody(amount) }),
      plenty,
    );
  await store.close();
  await downgrade();
  store = await open();
  try {
    await store.init({ chainId: 31337, ledger: LEDGER });
    expect(await store.queuedQuoteUse(quote)).to.equal(100n);
  } finally {
    await store.close();
  }
}

/** The same behaviour, required of every store implementation. */
function storeContract(open: () => Promise<{ store: RelayerStore; cleanup: () => Promise<void> }>) {
  let store: RelayerStore;
  let cleanup: () => Promise<void>;

  beforeEach(async function () {
    ({ store, cleanup } = await open());
    await store.init({ chainId: 31337, ledger: LEDGER });
    await store.ensureWallet(WALLET, 0);
    expect(await store.leaseWallet(WALLET, "test", Date.now() + 60_000, Date.now())).to.equal(true);
  });

  afterEach(async function () {
    await store.close();
    await cleanup();
  });

  /** Claims every due payment into one transaction of WALLET at its next nonce. */
  async function submit(ids?: Hex[], label = "tx"): Promise<number> {
    const nonce = await store.nextNonce(WALLET);
    const { transactionId } = await store.submitBatch(
      { kind: "payment", limit: 100, now: Date.now(), instance: "test" },
      (claimed) =>
        Promise.resolve({
          fail: [],
          submission: {
            wallet: WALLET,
            nonce,
            kind: "payment" as const,
            currency: 156,
            attempt: attempt(`${label} ${nonce}`),
            requestIds: ids ?? claimed.map((r) => r.id),
          },
        }),
    );
    return transactionId as number;
  }

  it("binds to one chain and ledger", async function () {
    await store.init({ chainId: 31337, ledger: LEDGER });
    let refused: unknown;
    await store.init({ chainId: 31337, ledger: OTHER_WALLET }).catch((error: unknown) => (refused = error));
    expect(refused).to.have.property("code", "STORE_OTHER_LEDGER");
  });

  it("admits a request once, and recognises it again by id", async function () {
    const first = request();
    expect((await store.admit(first, plenty)).outcome).to.equal("accepted");
    const again = await store.admit(first, plenty);
    expect(again.outcome).to.equal("duplicate");
    expect(again.outcome === "duplicate" && again.request.status).to.equal("accepted");
    expect((await store.getRequest(first.id))?.amount).to.equal(10n);
  });

  it("refuses a second request with a live signer nonce, and frees the nonce once the first failed", async function () {
    const first = request({ nonce: 7n });
    await store.admit(first, plenty);
    const clash = await store.admit(request({ nonce: 7n }), plenty);
    expect(clash).to.include({ outcome: "refused", code: "NONCE_IN_QUEUE" });
    await store.failRequests([{ id: first.id, reason: "Expired" }], Date.now());
    expect((await store.admit(request({ nonce: 7n }), plenty)).outcome).to.equal("accepted");
  });

  it("meters what live cross-currency requests take of their quote, and refuses more than it delivers", async function () {
    const quote = id("quote");
    const onQuote = (quoteAmount: bigint, paymentId = quote) =>
      request({ kind: "fx", paymentId, quoteAmount, body: fxBody(quoteAmount) });
    const first = onQuote(100n);
    await store.admit(first, plenty);
    await store.admit(onQuote(250n), plenty);
    await store.admit(onQuote(999n, id("another quote")), plenty);
    expect(await store.queuedQuoteUse(quote)).to.equal(350n);
    expect(await store.admit(onQuote(51n), { ...plenty, quoteRemaining: figure(400n) })).to.include({
      outcome: "refused",
      code: "QUOTE_EXHAUSTED",
    });
    expect((await store.admit(onQuote(50n), { ...plenty, quoteRemaining: figure(400n) })).outcome).to.equal(
      "accepted",
    );
    await store.failRequests([{ id: first.id, reason: "Expired" }], Date.now());
    expect(await store.queuedQuoteUse(quote)).to.equal(300n, "a final request no longer holds its share");
  });

  it("counts queued amounts against the balance and the daily limit", async function () {
    expect((await store.admit(request({ amount: 60n }), { balance: figure(100n) })).outcome).to.equal(
      "accepted",
    );
    expect(await store.admit(request({ amount: 50n }), { balance: figure(100n) })).to.include({
      outcome: "refused",
      code: "INSUFFICIENT_BALANCE",
    });
    expect((await store.admit(request({ amount: 40n }), { balance: figure(100n) })).outcome).to.equal(
      "accepted",
    );
    expect(
      await store.admit(request({ amount: 1n }), { balance: figure(1_000n), dailyRemaining: figure(100n) }),
    ).to.include({
      outcome: "refused",
      code: "DAILY_LIMIT_EXCEEDED",
    });
    const stranger = request({ signer: "0x00000000000000000000000000000000000000bb", amount: 100n });
    expect((await store.admit(stranger, { balance: figure(100n) })).outcome).to.equal(
      "accepted",
      "other signers do not count",
    );
  });

  it("counts a request whose transaction is included only against figures read before its block", async function () {
    const paymentId = id("refunded while mined");
    const quote = id("quote while mined");
    const mined = [
      request({ amount: 60n }),
      request({ kind: "fx", amount: 20n, paymentId: quote, quoteAmount: 20n, body: fxBody(20n) }),
      request({ kind: "refund", amount: 5n, paymentId }),
    ];
    for (const queued of mined) expect((await store.admit(queued, plenty)).outcome).to.equal("accepted");
    const transactionId = await submit(mined.map((queued) => queued.id));
    const inclusionAt9 = { hash: id("mined at 9"), blockNumber: 9, blockHash: id("block 9") };
    await store.markIncluded(transactionId, inclusionAt9);

    // Read at block 9 the ledger holds the 85 already: 15 left of 100 is all there is to count against.
    const at9 = { balance: figure(15n, 9), dailyRemaining: figure(20n, 9) };
    expect((await store.admit(request({ amount: 15n }), at9)).outcome).to.equal("accepted");
    // Read at block 8 it does not: 100 less the 85 mined after it and the 15 just queued leaves nothing.
    expect(await store.admit(request({ amount: 1n }), { balance: figure(100n, 8) })).to.include({
      code: "INSUFFICIENT_BALANCE",
    });
    expect(
      await store.admit(request({ amount: 6n }), { ...plenty, dailyRemaining: figure(20n, 9) }),
    ).to.include({
      code: "DAILY_LIMIT_EXCEEDED",
    });
    const onQuote = (amount: bigint, remaining: bigint, block: number) =>
      store.admit(request({ kind: "fx", paymentId: quote, quoteAmount: amount, body: fxBody(amount) }), {
        ...plenty,
        quoteRemaining: figure(remaining, block),
      });
    expect(await onQuote(11n, 30n, 8)).to.include({ code: "QUOTE_EXHAUSTED" });
    expect((await onQuote(10n, 10n, 9)).outcome).to.equal("accepted");
    const refund = (amount: bigint, refundable: bigint, block: number) =>
      store.admit(request({ kind: "refund", amount, paymentId }), {
        ...plenty,
        refundable: figure(refundable, block),
      });
    expect(await refund(1n, 5n, 8)).to.include({ code: "REFUND_EXCEEDS_PAYMENT" });
    expect((await refund(5n, 5n, 9)).outcome).to.equal("accepted");

    // Reorged out, or mined reverted (or as a cancellation), it settles nothing there: the figures count it.
    for (const change of [
      () => store.markReorged(transactionId),
      () => store.markIncluded(transactionId, inclusionAt9, true),
    ]) {
      await change();
      expect(await store.admit(request({ amount: 1n }), { balance: figure(100n, 9) })).to.include({
        code: "INSUFFICIENT_BALANCE",
      });
    }
  });

  it("counts queued refunds of a payment against what remains refundable", async function () {
    const paymentId = id("refunded payment");
    const refund = (amount: bigint) =>
      request({ kind: "refund", paymentId, amount, signer: "0x00000000000000000000000000000000000000cc" });
    expect(
      (await store.admit(refund(70n), { balance: figure(1_000n), refundable: figure(100n) })).outcome,
    ).to.equal("accepted");
    expect(await store.admit(refund(40n), { balance: figure(1_000n), refundable: figure(100n) })).to.include({
      code: "REFUND_EXCEEDS_PAYMENT",
    });
    expect(await store.queuedRefunds(paymentId)).to.equal(70n);
  });

  it("serves a change feed: every status change once, in order, page by page", async function () {
    const ids: Hex[] = [];
    for (let i = 0; i < 5; i++) {
      const r = request();
      ids.push(r.id);
      await store.admit(r, plenty);
    }
    const transactionId = await submit(ids.slice(0, 3));
    await store.finalizeTransaction(transactionId, {
      status: "confirmed",
      inclusion: { hash: id("mined"), blockNumber: 9, blockHash: id("block 9") },
      outcomes: ids.slice(0, 3).map((requestId) => ({ id: requestId, status: "settled" as const })),
      requeue: [],
      fail: [],
      notBefore: 0,
    });
    const seen: string[] = [];
    let since = 0;
    for (;;) {
      const page = await store.listRequests({ kind: "payment", since, limit: 2 });
      seen.push(...page.items.map((item) => `${item.id}:${item.status}`));
      if (page.items.length < 2) break;
      expect(page.next).to.be.greaterThan(since);
      since = page.next;
    }
    // 5 accepted, 3 submitted, 3 settled: each request appears at its latest change.
    expect(seen.filter((entry) => entry.endsWith(":settled"))).to.have.length(3);
    expect(seen.filter((entry) => entry.endsWith(":accepted"))).to.have.length(2);
    const settled = await store.listRequests({ kind: "payment", status: "settled", since: 0, limit: 10 });
    expect(settled.items.map((item) => item.id).sort()).to.deep.equal(ids.slice(0, 3).sort());
    expect(settled.items[0]).to.include({ txHash: id("mined"), blockNumber: 9 });
  });

  it("records a batch with its wallet nonce in one commit, and only at the expected nonce", async function () {
    const r = request();
    await store.admit(r, plenty);
    const transactionId = await submit();
    expect(await store.nextNonce(WALLET)).to.equal(1);
    const [open] = await store.openTransactions([WALLET]);
    expect(open).to.include({ id: transactionId, nonce: 0, status: "pending" });
    expect(open?.attempts.map((a) => a.hash)).to.deep.equal([id("attempt tx 0")]);
    expect(await store.rawOf(id("attempt tx 0"))).to.equal(attempt("x").raw);
    expect(await store.getRequest(r.id)).to.include({ status: "submitted", txHash: id("attempt tx 0") });

    await store.admit(request(), plenty);
    let conflict: unknown;
    await store
      .submitBatch({ kind: "payment", limit: 10, now: Date.now(), instance: "test" }, (claimed) =>
        Promise.resolve({
          fail: [],
          submission: {
            wallet: WALLET,
            nonce: 0,
            kind: "payment",
            currency: 156,
            attempt: attempt("stale"),
            requestIds: claimed.map((c) => c.id),
          },
        }),
      )
      .catch((error: unknown) => (conflict = error));
    expect(conflict).to.have.property("code", "NONCE_CONFLICT");
    expect(await store.nextNonce(WALLET)).to.equal(1, "a nonce is taken only with its transaction");
    expect((await store.queueSummary("payment", Date.now(), 10)).count).to.equal(1, "the claim was released");
  });

  it("gives concurrent claims disjoint requests, one currency at a time", async function () {
    await store.ensureWallet(OTHER_WALLET, 0);
    await store.leaseWallet(OTHER_WALLET, "test", Date.now() + 60_000, Date.now());
    for (let i = 0; i < 6; i++) await store.admit(request(), plenty);
    await store.admit(request({ currency: 344 }), plenty);
    const claimedBy: Hex[][] = [];
    const claim = (wallet: Address) =>
      store.submitBatch({ kind: "payment", limit: 3, now: Date.now(), instance: "test" }, async (claimed) => {
        claimedBy.push(claimed.map((c) => c.id));
        await new Promise((resolve) => setTimeout(resolve, 20));
        return {
          fail: [],
          submission: {
            wallet,
            nonce: 0,
            kind: "payment",
            currency: 156,
            attempt: attempt(`c ${wallet}`),
            requestIds: claimed.map((c) => c.id),
          },
        };
      });
    await Promise.all([claim(WALLET), claim(OTHER_WALLET)]);
    expect(claimedBy).to.have.length(2);
    expect(claimedBy[0]).to.have.length(3);
    expect(claimedBy[1]).to.have.length(3);
    expect(new Set([...(claimedBy[0] ?? []), ...(claimedBy[1] ?? [])]).size).to.equal(6);
    const left = await store.queueSummary("payment", Date.now(), 10);
    expect(left.count).to.equal(1, "the other currency waits for its own batch");
  });

  it("releases claimed requests when planning fails, and fails expired ones", async function () {
    const expired = request({ deadline: 1n });
    await store.admit(expired, plenty);
    await store.admit(request(), plenty);
    const failing = store.submitBatch({ kind: "payment", limit: 10, now: Date.now(), instance: "test" }, () =>
      Promise.reject(new Error("node unreachable")),
    );
    await failing.catch(() => undefined);
    expect((await store.queueSummary("payment", Date.now(), 10)).count).to.equal(2);
    const { failed, transactionId } = await store.submitBatch(
      { kind: "payment", limit: 10, now: Date.now(), instance: "test" },
      (claimed) =>
        Promise.resolve({
          fail: claimed.filter((c) => c.deadline < 2n).map((c) => ({ id: c.id, reason: "Expired" })),
        }),
    );
    expect([failed, transactionId]).to.deep.equal([1, undefined]);
    expect(await store.getRequest(expired.id)).to.include({ status: "failed", reason: "Expired" });
  });

  it("finalizes a transaction once: outcomes, requeues, failures, and webhooks for webhook clients", async function () {
    const [settled, rejected, requeued, failed] = [
      request(),
      request(),
      request(),
      request({ client: "no-webhooks" }),
    ];
    for (const r of [settled, rejected, requeued, failed]) await store.admit(r, plenty);
    const transactionId = await submit();
    const final = {
      status: "confirmed" as const,
      inclusion: { hash: id("mined"), blockNumber: 5, blockHash: id("block 5") },
      outcomes: [
        { id: settled.id, status: "settled" as const },
        { id: rejected.id, status: "rejected" as const, reason: "InsufficientBalance" },
      ],
      requeue: [requeued.id],
      fail: [{ id: failed.id, reason: "Expired" }],
      notBefore: Date.now() + 60_000,
    };
    const finalized = await store.finalizeTransaction(transactionId, final);
    expect(finalized.map((r) => r.status).sort()).to.deep.equal(["failed", "rejected", "settled"]);
    expect(await store.finalizeTransaction(transactionId, final)).to.deep.equal(
      [],
      "finalizing twice changes nothing",
    );
    expect(await store.getRequest(rejected.id)).to.include({
      status: "rejected",
      reason: "InsufficientBalance",
    });
    expect(await store.getRequest(requeued.id)).to.include({ status: "accepted", attempts: 1 });
    expect((await store.queueSummary("payment", Date.now(), 10)).count).to.equal(
      0,
      "requeued, not before its backoff",
    );
    expect(await store.openTransactions([WALLET])).to.deep.equal([]);

    const deliveries = await store.claimWebhooks(Date.now(), 10, Date.now() + 60_000);
    expect(deliveries.map((d) => d.requestId).sort()).to.deep.equal([settled.id, rejected.id].sort());
    expect(JSON.parse(deliveries[0]?.payload ?? "{}")).to.include({ event: "payment.final" });
    expect(await store.claimWebhooks(Date.now(), 10, Date.now() + 60_000)).to.deep.equal(
      [],
      "claimed ones are leased",
    );
    await store.completeWebhook(deliveries[0]?.id as number, {
      delivered: false,
      retryAt: Date.now() - 1,
      error: "HTTP 500",
    });
    await store.completeWebhook(deliveries[1]?.id as number, { delivered: true });
    const retried = await store.claimWebhooks(Date.now(), 10, Date.now() + 60_000);
    expect(retried.map((d) => [d.id, d.attempts])).to.deep.equal([[deliveries[0]?.id, 1]]);
  });

  it("tracks inclusion and reorgs of a transaction", async function () {
    const r = request();
    await store.admit(r, plenty);
    const transactionId = await submit();
    const inclusion = { hash: id("attempt tx 0"), blockNumber: 3, blockHash: id("block 3") };
    await store.markIncluded(transactionId, inclusion);
    expect((await store.openTransactions([WALLET]))[0]).to.deep.include({ status: "included", inclusion });
    expect(await store.getRequest(r.id)).to.include({ status: "submitted", blockNumber: 3 });
    await store.markReorged(transactionId);
    const [reorged] = await store.openTransactions([WALLET]);
    expect(reorged?.status).to.equal("pending");
    expect(reorged?.inclusion).to.equal(undefined);
  });

  it("leases a wallet to one instance at a time; an expired lease moves, and the old holder can no longer take nonces", async function () {
    const now = Date.now();
    expect(await store.leaseWallet(WALLET, "other", now + 60_000, now)).to.equal(false);
    expect(await store.leaseWallet(WALLET, "test", now + 10, now)).to.equal(true, "the holder renews");
    expect(await store.leaseWallet(WALLET, "other", now + 60_000, now + 20)).to.equal(true, "after expiry");
    await store.admit(request(), plenty);
    let lost: unknown;
    await submit().catch((error: unknown) => (lost = error));
    expect(lost).to.have.property("code", "NONCE_CONFLICT");
    expect((await store.walletStates()).find((w) => w.address === WALLET)).to.include({
      leaseOwner: "other",
      nextNonce: 0,
    });
  });

  it("raises a wallet's nonce but never lowers it, and lists the nonces transactions hold", async function () {
    await store.raiseNextNonce(WALLET, 9);
    await store.raiseNextNonce(WALLET, 4);
    expect(await store.nextNonce(WALLET)).to.equal(9);
    await store.raiseNextNonce(WALLET, 10);
    expect(await store.nextNonce(WALLET)).to.equal(10, "9 + 1 is 10, not 91");
    await store.recordNoop(WALLET, 6, attempt("noop 6"));
    await store.recordNoop(WALLET, 8, attempt("noop 8"));
    expect(await store.transactionNonces(WALLET, 5)).to.deep.equal([6, 8]);
  });
}

describe("relayer store", function () {
  describe("SQLite (a file)", function () {
    const sqliteConfig = (file: string) =>
      ({
        kind: "sqlite",
        sqlitePath: file,
        sqliteSynchronous: "full",
        sqliteCommitIntervalMs: 4,
        postgresSchema: "unused",
        postgresPoolSize: 1,
      }) as const;
    storeContract(async () => {
      const { dir, cleanup } = await tempDir();
      const store = await createStore(sqliteConfig(path.join(dir, "store.db")), new Set(["wallet-app"]));
      return { store, cleanup };
    });

    it("adds quote_amount and settles_none to a store made before them", async function () {
      const { dir, cleanup } = await tempDir();
      const file = path.join(dir, "store.db");
      try {
        await expectColumnsAdded(
          () => createStore(sqliteConfig(file), new Set(["wallet-app"])),
          () => {
            const db = new DatabaseSync(file);
            db.exec(
              "DROP INDEX requests_quote_live; ALTER TABLE requests DROP COLUMN quote_amount; " +
                "ALTER TABLE transactions DROP COLUMN settles_none",
            );
            db.close();
            return Promise.resolve();
          },
        );
      } finally {
        await cleanup();
      }
    });

    it("commits at most every commitIntervalMs, the requests meanwhile in one commit; idle, at once", async function () {
      const { dir, cleanup } = await tempDir();
      const file = path.join(dir, "commits.db");
      const intervalMs = 500;
      const db = openSqliteDatabase(file, "full", { commitIntervalMs: intervalMs });
      const reader = new DatabaseSync(file);
      const keys = () =>
        (reader.prepare("SELECT key FROM meta ORDER BY key").all() as { key: string }[]).map(
          (row) => row.key,
        );
      const put = (key: string) =>
        db.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ($1, 'v')", [key]));
      const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      try {
        await db.migrate();
        // Just after a commit: the next waits out the interval, and a write of a later turn joins it.
        const first = put("a");
        await later(20);
        const second = put("b");
        await first;
        expect(keys(), "the write made 20 ms later went in the same commit").to.deep.equal(["a", "b"]);
        await second;

        await later(intervalMs + 100);
        const started = performance.now();
        await put("c");
        expect(performance.now() - started, "an idle store commits without waiting").to.be.below(intervalMs);
        expect(keys()).to.deep.equal(["a", "b", "c"]);
      } finally {
        reader.close();
        await db.close();
        await cleanup();
      }
    });

    it("checkpoints on a thread of its own: commits never copy the WAL into the database file", async function () {
      // Left to SQLite, the commit that takes the WAL past 1,000 pages checkpoints it, with two fsyncs, on the
      // event loop: tens of milliseconds for every request waiting behind it.
      const { dir, cleanup } = await tempDir();
      const file = path.join(dir, "checkpoints.db");
      const sizes = async () => ({ db: (await stat(file)).size, wal: (await stat(`${file}-wal`)).size });
      const writeMegabytes = (db: SqlDatabase, megabytes: number, from: number) =>
        db.transaction(async (tx) => {
          for (let i = 0; i < megabytes * 1_000; i++) {
            await tx.run("INSERT INTO meta (key, value) VALUES ($1, $2)", [
              `k${from + i}`,
              "x".repeat(1_000),
            ]);
          }
        });
      try {
        const idle = openSqliteDatabase(file, "normal", { checkpointIntervalMs: 3_600_000 });
        await idle.migrate();
        const before = await sizes();
        await writeMegabytes(idle, 8, 0);
        const after = await sizes();
        expect(after.db, "the writer copied nothing into the database file").to.equal(before.db);
        expect(after.wal).to.be.greaterThan(8_000_000);
        await idle.close();

        const busy = openSqliteDatabase(file, "normal", { checkpointIntervalMs: 20 });
        await writeMegabytes(busy, 8, 8_000);
        const deadline = Date.now() + 5_000;
        while ((await sizes()).db < 16_000_000 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        expect((await sizes()).db, "the checkpointer copied the WAL in").to.be.at.least(16_000_000);
        await busy.close();
      } finally {
        await cleanup();
      }
    });

    it("updates a batch's requests by walking its id list, not the list once per request", async function () {
      // Through the requests_tx index SQLite scanned the whole JSON id list for every request of the
      // transaction: quadratic in the batch size (~20 ms to finalize a 500-payment batch, ~2 ms now).
      const db = openSqliteDatabase(":memory:", "normal");
      const listUpdates: { sql: string; params: readonly unknown[] }[] = [];
      const recording: SqlDatabase = {
        ...db,
        transaction: (fn) =>
          db.transaction((tx) =>
            fn({
              all: (sql, params = []) => {
                if (sql.includes("json_each")) listUpdates.push({ sql, params });
                return tx.all(sql, params);
              },
              run: (sql, params = []) => {
                if (sql.includes("json_each")) listUpdates.push({ sql, params });
                return tx.run(sql, params);
              },
            }),
          ),
      };
      const store = new SqlStore(recording, new Set());
      try {
        await store.init({ chainId: 31337, ledger: LEDGER });
        await store.ensureWallet(WALLET, 0);
        await store.leaseWallet(WALLET, "test", Date.now() + 60_000, Date.now());
        const requests = Array.from({ length: 6 }, () => request());
        for (const r of requests) await store.admit(r, plenty);
        const submitTwo = async (ids: Hex[]) => {
          const nonce = await store.nextNonce(WALLET);
          const { transactionId } = await store.submitBatch(
            { kind: "payment", limit: 100, now: Date.now(), instance: "test" },
            () =>
              Promise.resolve({
                fail: [],
                submission: {
                  wallet: WALLET,
                  nonce,
                  kind: "payment" as const,
                  currency: 156,
                  attempt: attempt(`plan ${nonce}`),
                  requestIds: ids,
                },
              }),
          );
          return transactionId as number;
        };
        const ids = requests.map((r) => r.id);
        const settledTx = await submitTwo(ids.slice(0, 3));
        const requeuedTx = await submitTwo(ids.slice(3));
        await store.finalizeTransaction(settledTx, {
          status: "confirmed",
          outcomes: ids.slice(0, 3).map((requestId) => ({ id: requestId, status: "settled" as const })),
          requeue: [],
          fail: [],
          notBefore: 0,
        });
        await store.finalizeTransaction(requeuedTx, {
          status: "dropped",
          outcomes: [],
          requeue: ids.slice(3),
          fail: [],
          notBefore: 0,
        });
        expect(listUpdates.filter(({ sql }) => sql.startsWith("UPDATE requests"))).to.have.length(2);
        for (const { sql, params } of listUpdates) {
          const plan = (await db.all(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => String(row.detail));
          expect(plan[0], sql).to.match(/^SCAN json_each/);
          expect(plan.join("\n"), sql).to.not.include("requests_tx");
        }
      } finally {
        await store.close();
      }
    });
  });

  describe("PostgreSQL", function () {
    before(async function () {
      await requirePostgres(this);
    });
    const postgresConfig = (schema: string) =>
      ({
        kind: "postgres",
        sqlitePath: "unused",
        sqliteSynchronous: "full",
        sqliteCommitIntervalMs: 4,
        postgresUrl: POSTGRES_URL,
        postgresSchema: schema,
        postgresPoolSize: 4,
      }) as const;
    storeContract(async () => {
      const schema = uniqueSchema();
      const store = await createStore(postgresConfig(schema), new Set(["wallet-app"]));
      return { store, cleanup: () => dropSchema(schema) };
    });

    it("lets payers on two instances take no more of one quote than it delivers", async function () {
      const schema = uniqueSchema();
      const stores = [
        await createStore(postgresConfig(schema), new Set()),
        await createStore(postgresConfig(schema), new Set()),
      ];
      try {
        for (const store of stores) await store.init({ chainId: 31337, ledger: LEDGER });
        const quote = id("shared quote");
        const outcomes = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (stores[i % 2] as RelayerStore).admit(
              request({
                kind: "fx",
                signer: `0x${(i + 1).toString(16).padStart(40, "0")}`,
                paymentId: quote,
                quoteAmount: 1n,
                body: fxBody(1n),
              }),
              { ...plenty, quoteRemaining: figure(10n) },
            ),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.outcome === "accepted")).to.have.length(10);
        expect(await (stores[0] as RelayerStore).queuedQuoteUse(quote)).to.equal(10n);
      } finally {
        for (const store of stores) await store.close();
        await dropSchema(schema);
      }
    });

    it("adds quote_amount and settles_none to a store made before them", async function () {
      const schema = uniqueSchema();
      try {
        await expectColumnsAdded(
          () => createStore(postgresConfig(schema), new Set(["wallet-app"])),
          async () => {
            const client = new pg.Client({ connectionString: POSTGRES_URL });
            await client.connect();
            try {
              await client.query(
                `DROP INDEX ${schema}.requests_quote_live; ALTER TABLE ${schema}.requests DROP COLUMN quote_amount; ` +
                  `ALTER TABLE ${schema}.transactions DROP COLUMN settles_none`,
              );
            } finally {
              await client.end();
            }
          },
        );
      } finally {
        await dropSchema(schema);
      }
    });
  });
});
