import { expect } from "chai";
import {
  TransactionReceiptNotFoundError,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";

import type { HotWallet } from "../../src/relayer/chain/hotWallets.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import { Broadcaster } from "../../src/relayer/engine/broadcaster.ts";
import { Tracker } from "../../src/relayer/engine/tracker.ts";
import { createLogger } from "../../src/relayer/logger.ts";
import { createMetrics } from "../../src/relayer/metrics.ts";
import type { Inclusion, RelayerStore, StoredTransaction } from "../../src/relayer/store/types.ts";
import type { LedgerView } from "../../src/relayer/validation/ledgerView.ts";

const WALLET = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Address;
const HASH: Hex = `0x${"ab".repeat(32)}`;
const RAW = "0x02f8" as Hex;

/** A promise and the function that resolves it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/**
 * A tracker and a broadcaster over fakes: a node that holds every `eth_sendRawTransaction` until the test lets it
 * answer, and a store with one unmined transaction of one wallet whose reads the test can hold too.
 */
function setup(broadcastAt?: number) {
  const config = relayerConfigSchema.parse({
    chain: {
      rpcUrl: "http://127.0.0.1:1",
      chainId: 31337,
      ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    },
  });
  const stored: StoredTransaction = {
    id: 1,
    wallet: WALLET,
    nonce: 0,
    kind: "payment",
    currency: 1,
    status: "pending",
    createdAt: Date.now(),
    attempts: [
      {
        hash: HASH,
        fees: {},
        cancel: false,
        createdAt: Date.now(),
        ...(broadcastAt === undefined ? {} : { broadcastAt }),
      },
    ],
  };
  const sends: Hex[] = [];
  /** The node answers no send until the test opens it; then every send, at once. */
  const node = deferred();
  /** Set to hold the next `openTransactions` read until resolved; the read returns what was stored when called. */
  let holdRead: { promise: Promise<void>; resolve: () => void; reading: { resolve: () => void } } | undefined;
  const chain = {
    head: 10n,
    receiptAsks: 0,
    headRead: Promise.resolve() as Promise<unknown>,
    /** The receipt the node has for the transaction, if it is mined. */
    receipt: undefined as TransactionReceipt | undefined,
  };
  /** What `markIncluded` was told: the block, and whether the transaction settles none of its requests. */
  const included: { blockNumber: number; settlesNone: boolean | undefined }[] = [];
  /** Set to hold `markIncluded` until resolved. */
  let holdInclusion: Promise<void> | undefined;
  const client = {
    getBlockNumber: async () => {
      await chain.headRead;
      return chain.head;
    },
    getTransactionCount: () => Promise.resolve(0),
    getTransactionReceipt: ({ hash }: { hash: Hex }) => {
      chain.receiptAsks++;
      if (chain.receipt !== undefined) return Promise.resolve(chain.receipt);
      return Promise.reject(new TransactionReceiptNotFoundError({ hash }));
    },
    request: async ({ params }: { method: string; params: [Hex] }) => {
      sends.push(params[0]);
      await node.promise;
      return HASH;
    },
  } as unknown as PublicClient;
  const store = {
    openTransactions: async () => {
      const snapshot = structuredClone([stored]);
      const hold = holdRead;
      holdRead = undefined;
      if (hold !== undefined) {
        hold.reading.resolve();
        await hold.promise;
      }
      return snapshot;
    },
    rawOf: (hash: Hex) => Promise.resolve(hash === HASH ? RAW : undefined),
    markIncluded: async (_id: number, inclusion: Inclusion, settlesNone?: boolean) => {
      await holdInclusion;
      included.push({ blockNumber: inclusion.blockNumber, settlesNone });
    },
    markBroadcast: (hash: Hex, at: number) => {
      for (const attempt of stored.attempts) if (attempt.hash === hash) attempt.broadcastAt = at;
      return Promise.resolve();
    },
  } as unknown as RelayerStore;
  const logger = createLogger("silent");
  const metrics = createMetrics();
  const broadcaster = new Broadcaster({ client, store, metrics, logger, onAccepted: () => undefined });
  const wallets = new Map([[WALLET, { address: WALLET } as HotWallet]]);
  const tracker = new Tracker({
    config,
    client,
    store,
    broadcaster,
    fees: () => Promise.resolve({ type: "eip1559" as const, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n }),
    wallets: () => wallets,
    ledger: {} as LedgerView,
    metrics,
    logger,
    onFinished: () => undefined,
  });
  return {
    tracker,
    broadcaster,
    sends,
    included,
    /** Holds every `markIncluded` until `release` is called. */
    holdInclusions: () => {
      const held = deferred();
      holdInclusion = held.promise;
      return {
        release: () => {
          held.resolve();
        },
      };
    },
    /** The head the node reports (once `headRead` resolves), and how many receipts it was asked for. */
    chain,
    /** Lets the node answer every send, those waiting and those to come. */
    openNode: () => {
      node.resolve();
    },
    /** Resolves when `broadcaster.send` is called for the `count`-th time (counting from 1). */
    sendCalled: (count: number) => {
      const called = deferred();
      const send = broadcaster.send.bind(broadcaster);
      let calls = 0;
      broadcaster.send = (...args) => {
        if (++calls === count) called.resolve();
        return send(...args);
      };
      return called.promise;
    },
    /** Holds the next read of the open transactions; `reading` resolves once it has been made. */
    holdNextRead: () => {
      const reading = deferred();
      const hold = { ...deferred(), reading };
      holdRead = hold;
      return {
        reading: reading.promise,
        resolve: () => {
          hold.resolve();
        },
      };
    },
  };
}

describe("tracker re-broadcasts", function () {
  it("does not re-send a transaction while its first broadcast is still in flight", async function () {
    const { tracker, broadcaster, sends, openNode, sendCalled } = setup();
    const second = sendCalled(2);
    const first = broadcaster.send(WALLET, HASH, RAW);
    // The poll runs while the node holds the first send: it must neither send again nor wait for it.
    await Promise.race([tracker.poll(), second]);
    openNode();
    expect(await first).to.equal("accepted");
    await tracker.poll();
    expect(sends).to.deep.equal([RAW]);
  });

  it("does not re-send when the first broadcast finished after the poll read the transaction", async function () {
    const { tracker, broadcaster, sends, openNode, holdNextRead } = setup();
    const first = broadcaster.send(WALLET, HASH, RAW);
    const read = holdNextRead();
    const polling = tracker.poll();
    // The poll has read the transaction without a broadcast time; the broadcast finishes before it goes on.
    await read.reading;
    openNode();
    expect(await first).to.equal("accepted");
    read.resolve();
    await polling;
    expect(sends).to.deep.equal([RAW]);
  });

  it("does not re-send a batch between its commit and its first send", async function () {
    const { tracker, broadcaster, sends, openNode } = setup();
    openNode();
    const release = broadcaster.expect(HASH);
    await tracker.poll();
    release();
    expect(sends).to.deep.equal([]);
  });

  it("sends at once a stored transaction never broadcast (after a restart)", async function () {
    const { tracker, sends, openNode } = setup();
    openNode();
    await tracker.poll();
    expect(sends).to.deep.equal([RAW]);
  });

  it("re-sends the same bytes once the previous broadcast finished and the rebroadcast interval passed", async function () {
    const { tracker, sends, openNode } = setup(Date.now() - 60_000);
    openNode();
    await tracker.poll();
    expect(sends).to.deep.equal([RAW]);
  });
});

describe("tracker in-flight count", function () {
  it("counts a transaction once when a poll saw it before the submitter recorded it", async function () {
    const { tracker, openNode } = setup(Date.now());
    openNode();
    // The batch is committed (a poll reads it from the store) while its first send is still under way...
    await tracker.poll();
    expect(tracker.inFlight(WALLET)).to.equal(1);
    // ...then the send returns and the submitter records it: still one transaction, so the wallet is not full.
    tracker.recorded(WALLET, 1, "accepted");
    expect(tracker.inFlight(WALLET)).to.equal(1);
  });

  it("keeps a transaction recorded while a poll read the store, even if the read missed it", async function () {
    const { tracker, openNode, holdNextRead } = setup(Date.now());
    openNode();
    const read = holdNextRead();
    const polling = tracker.poll();
    await read.reading;
    tracker.recorded(WALLET, 2, "accepted");
    read.resolve();
    await polling;
    expect(tracker.inFlight(WALLET)).to.equal(2);
  });
});

describe("tracker receipt lookups", function () {
  it("looks for a new transaction's receipt alongside the head's read, not after it", async function () {
    const { tracker, chain, openNode } = setup(Date.now());
    openNode();
    const headRead = deferred();
    chain.headRead = headRead.promise;
    const polled = tracker.poll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(chain.receiptAsks, "asked while the head was still being read").to.equal(1);
    headRead.resolve();
    await polled;
    expect(chain.receiptAsks).to.equal(1);
  });

  it("asks for a transaction's receipts once per head, not on every poll", async function () {
    const { tracker, chain, openNode } = setup(Date.now());
    openNode();
    await tracker.poll();
    expect(chain.receiptAsks).to.equal(1);
    // The first look went out alongside the head's read, so it may predate a block the head holds: once more.
    await tracker.poll();
    expect(chain.receiptAsks).to.equal(2);
    // A chain with a block time: polls come faster than blocks, and until one comes no receipt can appear.
    await tracker.poll();
    await tracker.poll();
    expect(chain.receiptAsks).to.equal(2);
    chain.head = 11n;
    await tracker.poll();
    expect(chain.receiptAsks).to.equal(3);
  });
});

describe("tracker inclusion", function () {
  it("records whether a transaction mined short of its confirmations settles any of its requests", async function () {
    for (const status of ["success", "reverted"] as const) {
      const { tracker, chain, included, openNode } = setup(Date.now());
      openNode();
      chain.receipt = {
        status,
        transactionHash: HASH,
        blockNumber: 10n,
        blockHash: `0x${"cd".repeat(32)}`,
        logs: [],
      } as unknown as TransactionReceipt;
      await tracker.poll();
      // Three confirmations by default: in block 10 at head 10 it has one.
      expect(included).to.deep.equal([{ blockNumber: 10, settlesNone: status === "reverted" }]);
    }
  });

  it("gives intake a head only once what it mined of ours is recorded", async function () {
    const { tracker, chain, included, openNode, holdInclusions } = setup(Date.now());
    openNode();
    chain.receipt = {
      status: "success",
      transactionHash: HASH,
      blockNumber: 10n,
      blockHash: `0x${"cd".repeat(32)}`,
      logs: [],
    } as unknown as TransactionReceipt;
    const held = holdInclusions();
    const polling = tracker.poll();
    while (tracker.head === undefined) await new Promise((resolve) => setImmediate(resolve));
    // The head is seen, but the transaction mined in it is not recorded yet: a read there would count it twice.
    expect(tracker.recordedHead).to.equal(undefined);
    held.release();
    await polling;
    expect(included).to.have.length(1);
    expect(tracker.recordedHead).to.include({ number: 10 });
  });
});
