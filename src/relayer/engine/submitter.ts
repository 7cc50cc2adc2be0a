import type { Address, Hex, PublicClient } from "viem";

import { decodeRevert, revertData } from "../../protocol/revert.ts";
import { classifyRpcError, rpcErrorMessage } from "../chain/classifyRpcError.ts";
import type { FeeFields } from "../chain/fees.ts";
import type { HotWallet } from "../chain/hotWallets.ts";
import type { RelayerConfig } from "../config.ts";
import { RelayerError } from "../errors.ts";
import type { RelayerLogger } from "../logger.ts";
import type { RelayerMetrics } from "../metrics.ts";
import {
  REQUEST_KINDS,
  type BatchPlan,
  type NewAttempt,
  type RelayerStore,
  type RequestKind,
  type StoredRequest,
} from "../store/types.ts";
import { batchCalldata, batchGasBudget, fittingPrefix, isBudgetable } from "./batchCalldata.ts";
import { batchDue } from "./batchWindow.ts";
import type { Broadcaster } from "./broadcaster.ts";
import { batchGasLimit } from "./gas.ts";
import type { NonceManager } from "./nonceManager.ts";
import { signAttempt } from "./signAttempt.ts";
import type { Tracker } from "./tracker.ts";

/** What the submitter needs. */
export interface SubmitterDeps {
  config: RelayerConfig;
  instance: string;
  client: PublicClient;
  store: RelayerStore;
  broadcaster: Broadcaster;
  tracker: Tracker;
  nonces: NonceManager;
  fees: () => Promise<FeeFields>;
  wallets: () => ReadonlyMap<Address, HotWallet>;
  metrics: RelayerMetrics;
  logger: RelayerLogger;
  /** Called after requests left the queue for a transaction (or failed before one). */
  onDequeued?: () => void;
  /**
   * What would make the contracts refuse any batch of `wallet` now (`relayingProblem`), asked before a request
   * the node refuses to estimate is failed alone.
   */
  relayingProblem?: (wallet: Address) => Promise<string | undefined>;
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** The kinds of request this configuration sends: cross-currency payments only with an FX contract. */
function kindsOf(config: RelayerConfig): RequestKind[] {
  return REQUEST_KINDS.filter((kind) => kind !== "fx" || config.chain.fx !== undefined);
}

/** Most requests of a kind in one transaction. */
function maxItemsOf(config: RelayerConfig, kind: RequestKind): number {
  return { payment: config.batch.maxItems, refund: config.batch.refundMaxItems, fx: config.batch.fxMaxItems }[
    kind
  ];
}

/** The contract a batch of a kind is sent to: the ledger, or the FX contract for cross-currency payments. */
function targetOf(config: RelayerConfig, kind: RequestKind): Address {
  return kind === "fx" ? (config.chain.fx as Address) : config.chain.ledger;
}

/** After a batch could not be built (the chain refused it, or was unreachable), wait this long. */
const BACKOFF_MS = 2_000;

/**
 * Turns the queue into transactions: one loop per held wallet takes a batch when `batch.maxItems` are waiting
 * or the oldest has waited `batch.windowMs`, as long as the wallet has fewer than `wallets.maxInFlight`
 * unfinished transactions. A batch is one currency, sized to the gas cap (EIP-7623 floor included), signed, and
 * stored with its wallet nonce in one commit before its bytes are sent.
 *
 * @example
 * const submitter = new Submitter(deps);
 * submitter.start();
 * submitter.accepted(); // a payment was accepted
 */
export class Submitter {
  readonly #deps: SubmitterDeps;
  readonly #loops = new Map<Address, Promise<void>>();
  #wakeSignal = signal();
  #running = false;
  #flushing = false;
  /** Requests accepted since the loops last looked at the queue. */
  #unseen = 0;
  /** Whether a loop saw requests waiting and sleeps until their window closes. */
  #windowArmed = false;
  #refusedUntil = 0;
  /** Why the last batch could not be built, while that lasts (for readiness). */
  lastError: string | undefined;

  constructor(deps: SubmitterDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#running = true;
    this.sync();
  }

  /** Starts a loop for every held wallet that has none. */
  sync(): void {
    if (!this.#running) return;
    for (const address of this.#deps.wallets().keys()) {
      if (this.#loops.has(address)) continue;
      const loop = this.#loop(address).finally(() => this.#loops.delete(address));
      this.#loops.set(address, loop);
    }
  }

  /**
   * Counts a newly accepted request; wakes the loops when none is waiting for a batch window yet, and when a
   * full batch is waiting — not for every request in between, which would cost a queue query each.
   */
  accepted(): void {
    this.#unseen++;
    if (!this.#windowArmed || this.#unseen >= this.#deps.config.batch.maxItems) this.kick();
  }

  /** Wakes every loop to look at the queue now. */
  kick(): void {
    const current = this.#wakeSignal;
    this.#wakeSignal = signal();
    current.resolve();
  }

  /** Sends whatever is queued without waiting for windows, until the queue is empty or `timeoutMs` passes. */
  async flush(timeoutMs: number): Promise<void> {
    this.#flushing = true;
    this.kick();
    const deadline = Date.now() + timeoutMs;
    const now = () => Date.now();
    while (now() < deadline) {
      const queues = await Promise.all(
        kindsOf(this.#deps.config).map((kind) => this.#deps.store.queueSummary(kind, now(), 1)),
      );
      if (queues.every((queue) => queue.count === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, this.#deps.config.chain.pollIntervalMs));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.kick();
    await Promise.all(this.#loops.values());
  }

  async #sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#wakeSignal.promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async #loop(address: Address): Promise<void> {
    const { config, store, logger } = this.#deps;
    while (this.#running && this.#deps.wallets().has(address)) {
      const now = Date.now();
      if (now < this.#refusedUntil || this.#deps.tracker.inFlight(address) >= config.wallets.maxInFlight) {
        await this.#sleep(config.chain.pollIntervalMs);
        continue;
      }
      let sent = false;
      let waitMs = config.chain.pollIntervalMs * 4;
      this.#unseen = 0;
      let waiting = 0;
      for (const kind of kindsOf(config)) {
        const maxItems = maxItemsOf(config, kind);
        const queue = await store.queueSummary(kind, now, maxItems);
        waiting += queue.count;
        const decision = batchDue(queue, now, maxItems, this.#flushing ? 0 : config.batch.windowMs);
        if (decision.due) {
          try {
            const outcome = await this.#submit(address, kind, maxItems);
            if (outcome.sent) sent = true;
            // Due, yet nothing (due) to take: another wallet's claim holds the requests, or what it left has
            // not waited a window. Look again when that closes, or soon: the claim may end without a wake-up.
            else waitMs = Math.min(waitMs, outcome.waitMs ?? config.chain.pollIntervalMs);
          } catch (error) {
            this.lastError = error instanceof RelayerError ? error.shortMessage : rpcErrorMessage(error);
            this.#refusedUntil = Date.now() + BACKOFF_MS;
            logger.error({ wallet: address, kind, error: this.lastError }, "could not submit a batch");
          }
        } else if (decision.waitMs !== undefined) {
          waitMs = Math.min(waitMs, decision.waitMs);
        }
      }
      this.#windowArmed = waiting > 0;
      if (!sent) await this.#sleep(waitMs);
    }
  }

  /**
   * Builds, records and sends one batch. Whether a transaction went out; if not because the requests it could
   * claim are not due yet (the rest being another wallet's claim), how long until they are.
   */
  async #submit(
    address: Address,
    kind: RequestKind,
    maxItems: number,
  ): Promise<{ sent: boolean; waitMs?: number }> {
    const { store, instance, broadcaster, tracker, metrics, logger } = this.#deps;
    const wallet = this.#deps.wallets().get(address);
    if (wallet === undefined) return { sent: false };
    let signed: { attempt: NewAttempt; items: number } | undefined;
    let notDue: number | undefined;
    // From before its commit until its send is queued, a batch is announced to the broadcaster, so a tracker
    // poll that sees the stored transaction in between does not send it as well.
    const announced: (() => void)[] = [];
    const now = Date.now();
    try {
      const { transactionId, failed } = await store.submitBatch(
        { kind, limit: maxItems, now, instance },
        async (claimed): Promise<BatchPlan> => {
          // The queue was due, but part of it may be in another wallet's claim: a batch of the stragglers
          // that arrived meanwhile would spend a transaction (and a slot in flight) on a handful of requests.
          const decision = batchDue(
            { count: claimed.length, oldestAcceptedAt: Math.min(...claimed.map((r) => r.acceptedAt)) },
            now,
            maxItems,
            this.#flushing ? 0 : this.#deps.config.batch.windowMs,
          );
          if (!decision.due) {
            notDue = decision.waitMs;
            return { fail: [] };
          }
          const plan = await this.#plan(wallet, claimed);
          if (plan.submission !== undefined) {
            signed = { attempt: plan.submission.attempt, items: plan.submission.requestIds.length };
            announced.push(broadcaster.expect(plan.submission.attempt.hash));
          }
          return plan;
        },
      );
      if (failed > 0) logger.info({ failed }, "requests failed before submission");
      if (failed > 0 || signed !== undefined) this.#deps.onDequeued?.();
      if (transactionId === undefined || signed === undefined) return { sent: false, waitMs: notDue };
      this.lastError = undefined;
      // Another wallet's loop that looked while these requests were claimed found nothing and went to sleep:
      // wake it to take the next batch while this one is being sent.
      this.kick();
      metrics.batchItems.observe({ kind }, signed.items);
      logger.info(
        { transaction: transactionId, wallet: address, hash: signed.attempt.hash, items: signed.items },
        "batch signed",
      );
      const sending = broadcaster.send(address, signed.attempt.hash, signed.attempt.raw);
      for (const release of announced.splice(0)) release();
      const result = await sending;
      tracker.recorded(address, transactionId, result);
      tracker.kick();
      return { sent: true };
    } finally {
      for (const release of announced) release();
    }
  }

  /**
   * Decides a batch from claimed requests: drops the expired, sizes it to the gas cap and signs it. A batch over
   * the cap, or one the node refuses to estimate for something in it, is halved until it goes or the request at
   * fault is alone, which fails (`GasCapExceeded`, `EstimateRefused`) so the rest of the queue can go.
   */
  async #plan(wallet: HotWallet, claimed: StoredRequest[]): Promise<BatchPlan> {
    const { config, logger } = this.#deps;
    const nowSeconds = BigInt(Math.floor(Date.now() / 1000));
    const fail = claimed
      .filter((request) => request.deadline < nowSeconds)
      .map((request) => ({ id: request.id, reason: "Expired" }));
    let batch = claimed.filter((request) => request.deadline >= nowSeconds);
    batch = batch.slice(0, fittingPrefix(batch, config.batch));
    const first = batch[0];
    if (first === undefined) return { fail };
    const cap = BigInt(config.batch.gasCap);
    for (;;) {
      const data = batchCalldata(batch);
      const useBudget =
        config.batch.gasLimit === "budget" && isBudgetable(batch) && batch.every((r) => r.attempts === 0);
      let gas: bigint | undefined;
      let refused: string | undefined;
      if (useBudget) {
        gas = batchGasLimit(batchGasBudget(batch, config.batch), data, 0, cap);
      } else {
        const estimate = await this.#estimate(wallet.address, targetOf(config, first.kind), data);
        if (typeof estimate === "bigint") {
          gas = batchGasLimit(estimate, data, config.batch.gasMarginPercent, cap);
        } else {
          refused = estimate.refused;
        }
      }
      if (gas === undefined) {
        if (batch.length === 1) {
          if (refused !== undefined) {
            // Without revert data a refusal of every batch (a paused network, a removed key) looks the same.
            const problem = await this.#deps.relayingProblem?.(wallet.address);
            if (problem !== undefined)
              throw new RelayerError("BATCH_REFUSED", `The ledger refuses the batch: ${problem}`);
            logger.warn(
              { id: first.id, error: refused },
              "the node refuses to estimate a request: failing it",
            );
          }
          const reason = refused === undefined ? "GasCapExceeded" : "EstimateRefused";
          return { fail: [...fail, { id: first.id, reason }] };
        }
        batch = batch.slice(0, Math.ceil(batch.length / 2));
        continue;
      }
      const nonce = await this.#deps.nonces.next(wallet.address);
      const attempt = await signAttempt(
        wallet,
        {
          chainId: config.chain.chainId,
          nonce,
          to: targetOf(config, first.kind),
          data,
          gas,
          fees: await this.#deps.fees(),
        },
        false,
      );
      return {
        fail,
        submission: {
          wallet: wallet.address,
          nonce,
          kind: first.kind,
          currency: first.currency,
          attempt,
          requestIds: batch.map((request) => request.id),
        },
      };
    }
  }

  /**
   * eth_estimateGas of the batch from the wallet. A refusal of the batch as a whole is an error: one of the
   * contracts' custom errors (they refuse a bad item by event, so such a revert is about the caller or the
   * network, e.g. UnauthorizedRelayer or NetworkPaused), or a failure that is no revert (a timeout, a lost
   * connection: it says nothing of the requests). Any other refusal (a revert without a custom error, EDR's
   * inner call out of gas) comes from something in the batch, and is returned with the node's words.
   */
  async #estimate(wallet: Address, to: Address, data: Hex): Promise<bigint | { refused: string }> {
    try {
      return await this.#deps.client.estimateGas({ account: wallet, to, data });
    } catch (error) {
      const reverted = classifyRpcError(error) === "reverted";
      const decoded = reverted ? decodeRevert(revertData(error) ?? "0x") : undefined;
      // decodeRevert also knows Solidity's Error(string) and Panic(uint256), which the contracts do not use to
      // refuse a caller.
      if (reverted && (decoded === undefined || decoded.name === "Error" || decoded.name === "Panic")) {
        return { refused: rpcErrorMessage(error) };
      }
      throw new RelayerError(
        "BATCH_REFUSED",
        decoded === undefined
          ? `Estimating the batch's gas failed: ${rpcErrorMessage(error)}`
          : `The ledger refuses the batch: ${decoded.name}(${decoded.args.map(String).join(", ")})`,
        { cause: error },
      );
    }
  }
}
