import {
  parseTransaction,
  TransactionReceiptNotFoundError,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";

import { rpcErrorMessage } from "../chain/classifyRpcError.ts";
import { bumpFees, feesFromStored, type FeeFields } from "../chain/fees.ts";
import type { HotWallet } from "../chain/hotWallets.ts";
import type { RelayerConfig } from "../config.ts";
import type { RelayerLogger } from "../logger.ts";
import type { RelayerMetrics } from "../metrics.ts";
import type {
  RequestOutcome,
  RelayerStore,
  StoredRequest,
  StoredTransaction,
  TransactionFinal,
} from "../store/types.ts";
import type { LedgerView } from "../validation/ledgerView.ts";
import type { Broadcaster, BroadcastResult } from "./broadcaster.ts";
import type { SeenHead } from "./feeSource.ts";
import { findEarlierSettlements } from "./findEarlierSettlement.ts";
import { receiptOutcomes } from "./receiptOutcomes.ts";
import { signAttempt } from "./signAttempt.ts";

/** What the tracker needs. */
export interface TrackerDeps {
  config: RelayerConfig;
  client: PublicClient;
  store: RelayerStore;
  broadcaster: Broadcaster;
  fees: () => Promise<FeeFields>;
  /** The wallets this instance holds; only their transactions are tracked. */
  wallets: () => ReadonlyMap<Address, HotWallet>;
  ledger: LedgerView;
  metrics: RelayerMetrics;
  logger: RelayerLogger;
  /** Called after a transaction finished (its wallet can take another). */
  onFinished: () => void;
}

/** Broadcast results that no fee or retry can fix: the bytes must be replaced by a no-op to free the nonce. */
const INVALID_FOREVER: readonly BroadcastResult[] = ["gasLimitTooHigh", "intrinsicGasTooLow"];
/** Polls a nonce must look taken, without any receipt of ours, before the transaction counts as dropped. */
const DROP_AFTER_POLLS = 8;
const NOOP_GAS = 21_000n;
/** With nothing in flight the head is still polled (for readiness and confirmations), but only this often. */
const IDLE_POLL_MS = 1_000;

/**
 * Follows every transaction of this instance's wallets from signature to finality:
 *
 * - not yet mined: re-sends the same signed bytes (every `rebroadcastIntervalMs`, at once after a restart or a
 *   "nonce too high"), replaces it with both fees raised after `stallTimeoutMs` (or at once on "fee too low"),
 *   or replaces it with a no-op when the node refuses the bytes for good;
 * - mined: checks every poll that its block is still canonical — if not (a reorg), it is pending again and its
 *   bytes are re-sent — and once `confirmations` deep, applies the ledger's events to its payments;
 * - its nonce taken by a transaction that is none of its attempts: dropped, payments back in the queue.
 *
 * @example
 * const tracker = new Tracker(deps);
 * tracker.start();
 * tracker.kick(); // after a broadcast, to see the receipt without waiting for the next poll
 */
export class Tracker {
  readonly #deps: TrackerDeps;
  readonly #lastResult = new Map<number, BroadcastResult>();
  readonly #nonceTakenSince = new Map<number, { block: number; polls: number }>();
  /** Unfinished transactions per wallet, by id: a set, so one seen both by a poll and by `recorded` counts once. */
  readonly #inFlight = new Map<Address, Set<number>>();
  /** Transactions recorded since the current poll started: its read of the store may predate their commit. */
  readonly #recordedDuringPoll = new Map<number, Address>();
  /**
   * The head at which each transaction's receipts were last asked for. Until the head moves no receipt can
   * appear or leave, so on a chain with a block time most polls ask the node nothing per transaction.
   */
  readonly #askedAt = new Map<number, number>();
  #head: number | undefined;
  #headAt = 0;
  #recordedHead: SeenHead | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #idle = true;

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
  }

  /** The latest block number seen. */
  get head(): number | undefined {
    return this.#head;
  }

  /** When the chain last answered, in ms since the epoch (for readiness). */
  get headAt(): number {
    return this.#headAt;
  }

  /**
   * The head of the last poll that finished, and when it was read: every transaction of ours that the node had
   * mined at or below it is recorded in the store as included (or final). Intake reads the ledger at this block,
   * so that the store can say which queued requests the figures it reads hold already.
   */
  get recordedHead(): SeenHead | undefined {
    return this.#recordedHead;
  }

  /** Unfinished transactions of a wallet at the last poll, plus those recorded since. */
  inFlight(wallet: Address): number {
    return this.#inFlight.get(wallet)?.size ?? 0;
  }

  /** Counts a transaction just recorded for `wallet`, and remembers how its first broadcast went. */
  recorded(wallet: Address, transactionId: number, result: BroadcastResult): void {
    this.#inFlightOf(wallet).add(transactionId);
    this.#recordedDuringPoll.set(transactionId, wallet);
    this.#lastResult.set(transactionId, result);
  }

  #inFlightOf(wallet: Address): Set<number> {
    let ids = this.#inFlight.get(wallet);
    if (ids === undefined) {
      ids = new Set();
      this.#inFlight.set(wallet, ids);
    }
    return ids;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Polls now (or right after the poll in progress). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Polls until no transaction of ours is unfinished, or `timeoutMs` passes; true if none is left. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A node that fails a call now and then must not abort the shutdown: the next poll tries again.
      await this.poll().catch((error: unknown) => {
        this.#deps.logger.warn({ error: rpcErrorMessage(error) }, "tracker poll failed while draining");
      });
      const open = await this.#deps.store.openTransactions([...this.#deps.wallets().keys()]);
      if (open.length === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, this.#deps.config.chain.pollIntervalMs));
    }
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.poll()
        .catch((error: unknown) => {
          this.#deps.logger.warn({ error: rpcErrorMessage(error) }, "tracker poll failed");
        })
        .finally(() => {
          this.#running = undefined;
          if (this.#stopped) return;
          const again = this.#again;
          this.#again = false;
          const interval = this.#deps.config.chain.pollIntervalMs;
          this.#schedule(again ? 0 : this.#idle ? Math.max(interval, IDLE_POLL_MS) : interval);
        });
    }, delayMs);
  }

  /** One pass over every unfinished transaction of our wallets. */
  async poll(): Promise<void> {
    const { client, store, metrics } = this.#deps;
    const wallets = this.#deps.wallets();
    // A send that finishes during this poll may have recorded its broadcast after `open` was read: those
    // hashes, like the ones still being sent, are left alone until the next poll.
    const sending = this.#deps.broadcaster.pending();
    this.#recordedDuringPoll.clear();
    const headRead = client.getBlockNumber({ cacheTime: 0 });
    const open = await store.openTransactions([...wallets.keys()]).catch((error: unknown) => {
      headRead.catch(() => undefined);
      throw error;
    });
    // A transaction's first look for a receipt compares with no head, so it goes out alongside the head's read,
    // not after it: where a send returns mined (automine, instant seal), its outcome is one round trip away.
    const firstLooks = new Map<number, Promise<TransactionReceipt | undefined>>();
    for (const transaction of open) {
      if (this.#askedAt.has(transaction.id)) continue;
      const look = this.#minedReceipt(transaction);
      look.catch(() => undefined);
      firstLooks.set(transaction.id, look);
    }
    const head = Number(await headRead);
    const seenAt = Date.now();
    this.#head = head;
    this.#headAt = seenAt;
    metrics.chainHead.set(head);
    this.#idle = open.length === 0;
    const openIds = new Set(open.map((transaction) => transaction.id));
    for (const id of this.#askedAt.keys()) if (!openIds.has(id)) this.#askedAt.delete(id);
    const byWallet = new Map<Address, StoredTransaction[]>();
    for (const transaction of open) {
      byWallet.set(transaction.wallet, [...(byWallet.get(transaction.wallet) ?? []), transaction]);
    }
    for (const address of wallets.keys()) {
      const ids = new Set((byWallet.get(address) ?? []).map((transaction) => transaction.id));
      for (const [id, wallet] of this.#recordedDuringPoll) if (wallet === address) ids.add(id);
      this.#inFlight.set(address, ids);
      metrics.walletInFlight.set({ wallet: address }, ids.size);
    }
    await Promise.all(
      [...byWallet].map(async ([address, transactions]) => {
        const wallet = wallets.get(address);
        if (wallet !== undefined) await this.#pollWallet(wallet, transactions, head, sending, firstLooks);
      }),
    );
    this.#recordedHead = { number: head, at: seenAt };
  }

  async #pollWallet(
    wallet: HotWallet,
    transactions: StoredTransaction[],
    head: number,
    sending: ReadonlySet<Hex>,
    firstLooks: ReadonlyMap<number, Promise<TransactionReceipt | undefined>>,
  ): Promise<void> {
    let chainNonce: number | undefined;
    const nonceNow = async () =>
      (chainNonce ??= await this.#deps.client.getTransactionCount({
        address: wallet.address,
        blockTag: "latest",
      }));
    // A "nonce too high" means the node lacks an earlier one: re-send the wallet's pending bytes in order.
    const resendAll = transactions.some(
      (transaction) => this.#lastResult.get(transaction.id) === "nonceTooHigh",
    );
    // Asked all at once, decided in nonce order: a node that mines as it receives (automine, instant seal)
    // answers nothing while it executes a batch, so asking one by one waits behind every batch sent meanwhile.
    const asked = transactions.map(
      (transaction) => firstLooks.has(transaction.id) || this.#askedAt.get(transaction.id) !== head,
    );
    const receipts = await Promise.all(
      transactions.map(
        (transaction, index) =>
          firstLooks.get(transaction.id) ??
          (asked[index] ? this.#minedReceipt(transaction) : Promise.resolve(undefined)),
      ),
    );
    for (const [index, transaction] of transactions.entries()) {
      if (!asked[index]) continue;
      // A first look that found nothing may have asked before a block `head` already holds: look once more.
      const unseen = firstLooks.has(transaction.id) && receipts[index] === undefined;
      this.#askedAt.set(transaction.id, unseen ? head - 1 : head);
    }
    for (const [index, transaction] of transactions.entries()) {
      const receipt = receipts[index];
      if (receipt !== undefined) {
        // A receipt read alongside the head may be from a block after it.
        await this.#onMined(transaction, receipt, Math.max(head, Number(receipt.blockNumber)));
        continue;
      }
      // Mined, and waiting for confirmations that only a new head brings.
      if (transaction.status === "included" && !asked[index]) continue;
      if (transaction.status === "included") await this.#onReorged(transaction);
      if ((await nonceNow()) > transaction.nonce) {
        await this.#onNonceTaken(transaction, head);
        continue;
      }
      this.#nonceTakenSince.delete(transaction.id);
      // Its last broadcast has not finished (or finished after `transactions` was read): nothing to decide yet.
      const busy = this.#deps.broadcaster.pending();
      if (transaction.attempts.some(({ hash }) => sending.has(hash) || busy.has(hash))) continue;
      await this.#push(wallet, transaction, resendAll);
    }
  }

  /** The receipt of whichever attempt was mined, newest attempt first. */
  async #minedReceipt(transaction: StoredTransaction): Promise<TransactionReceipt | undefined> {
    const hashes = transaction.inclusion === undefined ? [] : [transaction.inclusion.hash];
    hashes.push(...transaction.attempts.map((attempt) => attempt.hash).reverse());
    for (const hash of new Set(hashes)) {
      try {
        return await this.#deps.client.getTransactionReceipt({ hash });
      } catch (error) {
        if (!(error instanceof TransactionReceiptNotFoundError)) throw error;
      }
    }
    return undefined;
  }

  async #onMined(transaction: StoredTransaction, receipt: TransactionReceipt, head: number): Promise<void> {
    const inclusion = {
      hash: receipt.transactionHash,
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
    };
    this.#nonceTakenSince.delete(transaction.id);
    if (transaction.inclusion !== undefined && transaction.inclusion.blockHash !== inclusion.blockHash) {
      // Re-mined in another block after a reorg.
      this.#deps.metrics.reorgs.inc();
      this.#deps.logger.warn(
        { transaction: transaction.id, inclusion },
        "transaction moved to another block",
      );
    }
    const attempt = transaction.attempts.find((candidate) => candidate.hash === inclusion.hash);
    // A revert, or the no-op that cancelled the batch: none of its requests settled in that block.
    const settlesNone = receipt.status === "reverted" || attempt?.cancel === true;
    if (head - inclusion.blockNumber + 1 < this.#deps.config.chain.confirmations) {
      if (transaction.inclusion?.blockHash !== inclusion.blockHash) {
        await this.#deps.store.markIncluded(transaction.id, inclusion, settlesNone);
      }
      return;
    }
    const requests = transaction.kind === "noop" ? [] : await this.#deps.store.requestsOf(transaction.id);
    const live = requests.filter((request) => request.status === "submitted");
    let final: TransactionFinal;
    if (settlesNone) {
      final = this.#requeue(live, receipt.status === "reverted" ? "reverted" : "dropped", "Reverted");
      final.inclusion = inclusion;
    } else {
      final = { status: "confirmed", inclusion, outcomes: [], requeue: [], fail: [], notBefore: 0 };
      const { outcomes, missing } = receiptOutcomes(
        live,
        receipt.logs,
        this.#deps.config.chain.ledger,
        this.#deps.config.chain.fx,
      );
      final.outcomes = await this.#attribute(outcomes, live, inclusion.hash, head);
      if (missing.length > 0) {
        this.#deps.logger.error(
          { transaction: transaction.id, missing },
          "receipt has no event for some requests",
        );
        final.requeue = missing;
        final.notBefore = Date.now();
      }
    }
    await this.#finalize(transaction, final);
  }

  /**
   * A rejected request may have settled in another transaction (an earlier batch of ours whose receipt we
   * missed, or anyone's): report where. Not only after `NonceUsed`: a contract may check other things first —
   * the FX contract refuses an exhausted or expired quote, the ledger an expired deadline — before it would
   * find the nonce used.
   */
  async #attribute(
    outcomes: RequestOutcome[],
    requests: StoredRequest[],
    hash: Hex,
    head: number,
  ): Promise<RequestOutcome[]> {
    const rejected = new Set(outcomes.filter((outcome) => outcome.status === "rejected").map(({ id }) => id));
    if (rejected.size === 0) return outcomes;
    const { client, config, logger } = this.#deps;
    const earlier = await findEarlierSettlements(
      client,
      config.chain.ledger,
      requests.filter((request) => rejected.has(request.id)),
      head,
      config.chain.logLookbackBlocks,
    );
    return outcomes.map((outcome) => {
      const settledIn = earlier.get(outcome.id);
      // Only rejected requests were looked up.
      if (settledIn === undefined || settledIn.hash === hash) return outcome;
      logger.warn(
        { id: outcome.id, settledIn: settledIn.hash },
        "payment had settled in another transaction",
      );
      return { id: outcome.id, status: "settled" as const, settledIn };
    });
  }

  /** Puts a dead transaction's requests back in the queue; those out of attempts or time fail. */
  #requeue(requests: StoredRequest[], status: TransactionFinal["status"], reason: string): TransactionFinal {
    const now = Date.now();
    const final: TransactionFinal = { status, outcomes: [], requeue: [], fail: [], notBefore: now };
    for (const request of requests) {
      if (Number(request.deadline) * 1000 < now) final.fail.push({ id: request.id, reason: "Expired" });
      else if (request.attempts + 1 >= this.#deps.config.batch.maxAttempts)
        final.fail.push({ id: request.id, reason });
      else final.requeue.push(request.id);
    }
    // A revert may repeat (e.g. while the network is paused): give it a moment before the next batch.
    if (status === "reverted") final.notBefore = now + 5 * this.#deps.config.chain.pollIntervalMs;
    return final;
  }

  async #finalize(transaction: StoredTransaction, final: TransactionFinal): Promise<void> {
    const { store, metrics, logger, ledger } = this.#deps;
    const finalized = await store.finalizeTransaction(transaction.id, final);
    this.#lastResult.delete(transaction.id);
    this.#nonceTakenSince.delete(transaction.id);
    this.#inFlightOf(transaction.wallet).delete(transaction.id);
    metrics.transactions.inc({ kind: transaction.kind, result: final.status });
    this.#deps.onFinished();
    const now = Date.now();
    for (const request of finalized) {
      metrics.finalized.inc({ kind: request.kind, status: request.status });
      metrics.acceptToFinal.observe({ kind: request.kind }, (now - request.acceptedAt) / 1000);
    }
    for (const request of finalized) {
      if (request.status !== "settled") continue;
      ledger.settled({
        signer: request.signer,
        currency: request.currency,
        amount: request.amount,
        nonce: request.nonce,
        payment: request.kind !== "refund",
        // Settled requests carry their block; were one not to, applying it is the cautious way.
        block: request.blockNumber ?? Number.MAX_SAFE_INTEGER,
      });
    }
    logger.info(
      {
        transaction: transaction.id,
        wallet: transaction.wallet,
        nonce: transaction.nonce,
        result: final.status,
        hash: final.inclusion?.hash,
        block: final.inclusion?.blockNumber,
        final: finalized.length,
        requeued: final.requeue.length,
      },
      "transaction finished",
    );
  }

  async #onReorged(transaction: StoredTransaction): Promise<void> {
    this.#deps.metrics.reorgs.inc();
    this.#deps.logger.warn(
      { transaction: transaction.id, inclusion: transaction.inclusion },
      "transaction reorged out",
    );
    await this.#deps.store.markReorged(transaction.id);
    // Its bytes are valid again now that its nonce is free: send them at once.
    this.#lastResult.set(transaction.id, "nonceTooHigh");
  }

  /** Our nonce is used on chain but no attempt of ours was mined: after a while, the transaction is dropped. */
  async #onNonceTaken(transaction: StoredTransaction, head: number): Promise<void> {
    const since = this.#nonceTakenSince.get(transaction.id) ?? { block: head, polls: 0 };
    since.polls++;
    this.#nonceTakenSince.set(transaction.id, since);
    if (head - since.block < this.#deps.config.chain.confirmations || since.polls < DROP_AFTER_POLLS) return;
    this.#deps.logger.warn(
      { transaction: transaction.id, nonce: transaction.nonce },
      "nonce taken by another transaction",
    );
    const requests = transaction.kind === "noop" ? [] : await this.#deps.store.requestsOf(transaction.id);
    const live = requests.filter((request) => request.status === "submitted");
    await this.#finalize(transaction, this.#requeue(live, "dropped", "Dropped"));
  }

  /** Gets an unmined transaction mined: re-send, replace with higher fees, or cancel. */
  async #push(wallet: HotWallet, transaction: StoredTransaction, resendAll: boolean): Promise<void> {
    const { config } = this.#deps;
    const latest = transaction.attempts.at(-1);
    if (latest === undefined) return;
    const now = Date.now();
    const result = this.#lastResult.get(transaction.id);
    const lastSent = Math.max(0, ...transaction.attempts.map((attempt) => attempt.broadcastAt ?? 0));
    if (result !== undefined && INVALID_FOREVER.includes(result) && !latest.cancel) {
      await this.#replace(wallet, transaction, "cancel");
    } else if (
      result === "feeTooLow" ||
      (lastSent > 0 && now - latest.createdAt >= config.fees.stallTimeoutMs)
    ) {
      await this.#replace(wallet, transaction, "bump");
    } else if (
      resendAll ||
      result === "nonceTooHigh" ||
      lastSent === 0 ||
      now - lastSent >= config.fees.rebroadcastIntervalMs
    ) {
      await this.#send(transaction, latest.hash);
    }
  }

  async #send(transaction: StoredTransaction, hash: Hex): Promise<void> {
    const raw = await this.#deps.store.rawOf(hash);
    if (raw === undefined) return;
    const result = await this.#deps.broadcaster.send(transaction.wallet, hash, raw);
    this.#lastResult.set(transaction.id, result);
  }

  /** Signs, persists, then sends a replacement: same nonce and payload with higher fees, or a no-op. */
  async #replace(wallet: HotWallet, transaction: StoredTransaction, how: "bump" | "cancel"): Promise<void> {
    const { store, config, logger, metrics } = this.#deps;
    const latest = transaction.attempts.at(-1);
    const payload = [...transaction.attempts].reverse().find((attempt) => !attempt.cancel);
    if (latest === undefined || payload === undefined) return;
    const raw = await store.rawOf(payload.hash);
    if (raw === undefined) return;
    const parsed = parseTransaction(raw);
    const previous = feesFromStored(latest.fees);
    const fees = bumpFees(previous, await this.#deps.fees(), config.fees);
    if (fees === undefined && how === "bump") {
      logger.warn({ transaction: transaction.id }, "fees at their cap: re-sending the same bytes");
      await this.#send(transaction, latest.hash);
      return;
    }
    const attempt = await signAttempt(
      wallet,
      how === "cancel"
        ? {
            chainId: config.chain.chainId,
            nonce: transaction.nonce,
            to: wallet.address,
            data: "0x",
            gas: NOOP_GAS,
            fees: fees ?? previous,
          }
        : {
            chainId: config.chain.chainId,
            nonce: transaction.nonce,
            to: parsed.to as Address,
            data: parsed.data ?? "0x",
            gas: parsed.gas ?? 0n,
            fees: fees ?? previous,
          },
      how === "cancel",
    );
    await store.addAttempt(transaction.id, attempt);
    metrics.replacements.inc();
    logger.info(
      { transaction: transaction.id, how, hash: attempt.hash, fees: attempt.fees },
      "transaction replaced",
    );
    this.#lastResult.delete(transaction.id);
    const result = await this.#deps.broadcaster.send(transaction.wallet, attempt.hash, attempt.raw);
    this.#lastResult.set(transaction.id, result);
  }
}
