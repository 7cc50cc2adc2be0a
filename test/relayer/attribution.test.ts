import { expect } from "chai";
import {
  encodeAbiParameters,
  encodeEventTopics,
  parseEventLogs,
  keccak256,
  stringToHex,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from "viem";

import { fxSettlementAbi, REJECT_REASONS, settlementLedgerAbi } from "../../src/protocol/index.ts";
import type { HotWallet } from "../../src/relayer/chain/hotWallets.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import { Broadcaster } from "../../src/relayer/engine/broadcaster.ts";
import { Tracker } from "../../src/relayer/engine/tracker.ts";
import { createLogger } from "../../src/relayer/logger.ts";
import { createMetrics } from "../../src/relayer/metrics.ts";
import type {
  RelayerStore,
  RequestKind,
  StoredRequest,
  StoredTransaction,
  TransactionFinal,
} from "../../src/relayer/store/types.ts";
import type { LedgerView } from "../../src/relayer/validation/ledgerView.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const FX = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Address;
const WALLET = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Address;
const PAYER = "0x00000000000000000000000000000000000000aa" as Address;
const BATCH: Hex = keccak256(stringToHex("this batch"));
const EARLIER: Hex = keccak256(stringToHex("an earlier batch"));
const BLOCK: Hex = keccak256(stringToHex("block 9"));
const reason = (name: (typeof REJECT_REASONS)[number]) => REJECT_REASONS.indexOf(name);

/** A log as a node returns it, in `block` of transaction `hash`. */
function log(address: Address, topics: readonly unknown[], data: Hex, hash: Hex, block: bigint): Log {
  return {
    address,
    topics: topics as [Hex, ...Hex[]],
    data,
    transactionHash: hash,
    blockNumber: block,
    blockHash: BLOCK,
    logIndex: 0,
    transactionIndex: 0,
    removed: false,
  };
}

/** `PaymentRejected` of the FX contract (cross-currency) or the ledger (same currency). */
const rejected = (emitter: Address, id: Hex, why: number, hash: Hex) =>
  log(
    emitter,
    encodeEventTopics({
      abi: emitter === FX ? fxSettlementAbi : settlementLedgerAbi,
      eventName: "PaymentRejected",
      args: { paymentId: id, payer: PAYER },
    }),
    encodeAbiParameters([{ type: "uint8" }], [why]),
    hash,
    9n,
  );

/** The ledger's `BatchSettled` that closes a same-currency batch's events. */
const batchSettled = (hash: Hex) =>
  log(
    LEDGER,
    encodeEventTopics({
      abi: settlementLedgerAbi,
      eventName: "BatchSettled",
      args: { payerBank: 1, currency: 156 },
    }),
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "uint256" }],
      [keccak256(stringToHex("root")), 0n, 1n],
    ),
    hash,
    9n,
  );

/** The ledger's `CrossCurrencySettled` of `id`, in transaction `hash`. */
const fxSettled = (id: Hex, hash: Hex) =>
  log(
    LEDGER,
    encodeEventTopics({
      abi: settlementLedgerAbi,
      eventName: "CrossCurrencySettled",
      args: { payer: PAYER, payee: WALLET },
    }),
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "uint256" }],
      [id, keccak256(stringToHex("qr")), 1n, 1n],
    ),
    hash,
    5n,
  );

/** The ledger's `PaymentSettled` of `id`, in transaction `hash`. */
const paymentSettled = (id: Hex, hash: Hex) =>
  log(
    LEDGER,
    encodeEventTopics({
      abi: settlementLedgerAbi,
      eventName: "PaymentSettled",
      args: { payer: PAYER, payee: WALLET },
    }),
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }],
      [id, keccak256(stringToHex("qr")), 1n],
    ),
    hash,
    5n,
  );

/**
 * A tracker whose one open transaction (`BATCH`, carrying `request`) was mined with `batchLogs`, on a chain
 * whose ledger holds `history`. Resolves with how the transaction was finalized and how many log queries ran.
 */
async function finalizeWith(request: StoredRequest, batchLogs: Log[], history: Log[]) {
  const config = relayerConfigSchema.parse({
    chain: { rpcUrl: "http://127.0.0.1:1", chainId: 31337, ledger: LEDGER, fx: FX, confirmations: 1 },
  });
  const transaction: StoredTransaction = {
    id: 1,
    wallet: WALLET,
    nonce: 0,
    kind: request.kind,
    currency: request.currency,
    status: "pending",
    createdAt: Date.now(),
    attempts: [{ hash: BATCH, fees: {}, cancel: false, createdAt: Date.now(), broadcastAt: Date.now() }],
  };
  let final: TransactionFinal | undefined;
  let logQueries = 0;
  const client = {
    getBlockNumber: () => Promise.resolve(10n),
    getTransactionReceipt: () =>
      Promise.resolve({
        status: "success",
        transactionHash: BATCH,
        blockNumber: 9n,
        blockHash: BLOCK,
        logs: batchLogs,
      }),
    getLogs: () => {
      logQueries++;
      // A node filters by topic and viem decodes: the fake ledger holds only the payer's events, decoded.
      return Promise.resolve(parseEventLogs({ abi: settlementLedgerAbi, logs: history }));
    },
  } as unknown as PublicClient;
  const store = {
    openTransactions: () => Promise.resolve([transaction]),
    requestsOf: () => Promise.resolve([request]),
    finalizeTransaction: (_id: number, decided: TransactionFinal) => {
      final = decided;
      return Promise.resolve([]);
    },
  } as unknown as RelayerStore;
  const logger = createLogger("silent");
  const metrics = createMetrics();
  const tracker = new Tracker({
    config,
    client,
    store,
    broadcaster: new Broadcaster({ client, store, metrics, logger, onAccepted: () => undefined }),
    fees: () => Promise.resolve({ type: "eip1559" as const, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n }),
    wallets: () => new Map([[WALLET, { address: WALLET } as HotWallet]]),
    ledger: {} as LedgerView,
    metrics,
    logger,
    onFinished: () => undefined,
  });
  await tracker.poll();
  return { final, logQueries };
}

function request(kind: RequestKind, label: string, attempts = 1): StoredRequest {
  return {
    id: keccak256(stringToHex(label)),
    kind,
    signer: PAYER,
    currency: 156,
    nonce: 0n,
    amount: 100n,
    deadline: 4_000_000_000n,
    body: "{}",
    acceptedAt: Date.now(),
    status: "submitted",
    attempts,
    seq: 1,
    updatedAt: Date.now(),
  };
}

describe("tracker: a rejected request that had settled elsewhere", function () {
  it("reports a cross-currency payment settled when its retry met an exhausted quote, not the used nonce", async function () {
    // The FX contract checks the quote before the ledger checks the nonce: a retry of a payment that settled
    // in a batch whose receipt was missed comes back QuoteExhausted (or QuoteOutOfWindow), never NonceUsed.
    const fx = request("fx", "fx payment");
    const { final } = await finalizeWith(
      fx,
      [rejected(FX, fx.id, reason("QuoteExhausted"), BATCH)],
      [fxSettled(fx.id, EARLIER)],
    );
    expect(final?.outcomes).to.deep.equal([
      { id: fx.id, status: "settled", settledIn: { hash: EARLIER, blockNumber: 5 } },
    ]);
  });

  it("reports a same-currency payment rejected NonceUsed as settled where it settled", async function () {
    const payment = request("payment", "payment");
    const { final } = await finalizeWith(
      payment,
      [rejected(LEDGER, payment.id, reason("NonceUsed"), BATCH), batchSettled(BATCH)],
      [paymentSettled(payment.id, EARLIER)],
    );
    expect(final?.outcomes).to.deep.equal([
      { id: payment.id, status: "settled", settledIn: { hash: EARLIER, blockNumber: 5 } },
    ]);
  });

  it("keeps a rejection that no settlement contradicts, after one log query", async function () {
    const fx = request("fx", "fx payment never settled");
    const { final, logQueries } = await finalizeWith(
      fx,
      [rejected(FX, fx.id, reason("QuoteExhausted"), BATCH)],
      [fxSettled(keccak256(stringToHex("another payment")), EARLIER)],
    );
    expect(final?.outcomes).to.deep.equal([{ id: fx.id, status: "rejected", reason: "QuoteExhausted" }]);
    expect(logQueries).to.equal(1);
  });
});
