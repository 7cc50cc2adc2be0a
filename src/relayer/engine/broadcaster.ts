import type { Address, Hex, PublicClient } from "viem";

import {
  classifyRpcError,
  isAlreadySubmitted,
  rpcErrorMessage,
  type RpcErrorClass,
} from "../chain/classifyRpcError.ts";
import type { RelayerLogger } from "../logger.ts";
import type { RelayerMetrics } from "../metrics.ts";
import { Mutex } from "../mutex.ts";
import type { RelayerStore } from "../store/types.ts";

/** What happened to one `eth_sendRawTransaction`: accepted, or the classified failure. */
export type BroadcastResult = "accepted" | RpcErrorClass;

/**
 * Sends signed transactions, one at a time per wallet and in call order, so a wallet's nonces reach the node
 * in sequence (Hardhat's automine refuses a nonce ahead of the next). It only sends bytes that are already in
 * the store, and records when the node has them — accepted, or "already submitted" (already known, nonce too
 * low, replacement underpriced) — whose receipt the tracker then looks for. While a hash's send is queued or
 * running, `pending` says so, and the tracker leaves that transaction alone rather than send it a second time.
 *
 * @example
 * const result = await broadcaster.send(wallet, hash, raw); // "accepted" | "nonceTooLow" | …
 */
export class Broadcaster {
  readonly #client: PublicClient;
  readonly #store: RelayerStore;
  readonly #metrics: RelayerMetrics;
  readonly #logger: RelayerLogger;
  readonly #lanes = new Map<Address, Mutex>();
  /** Hashes with a send queued or running (or announced by `expect`), and how many of each. */
  readonly #pending = new Map<Hex, number>();
  readonly #onAccepted: () => void;

  constructor(deps: {
    client: PublicClient;
    store: RelayerStore;
    metrics: RelayerMetrics;
    logger: RelayerLogger;
    onAccepted: () => void;
  }) {
    this.#client = deps.client;
    this.#store = deps.store;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
    this.#onAccepted = deps.onAccepted;
  }

  /** The hashes whose send is queued or running (or announced with `expect` and not yet released), now. */
  pending(): Set<Hex> {
    return new Set(this.#pending.keys());
  }

  /**
   * Announces that `hash` (stored, or about to be) is going to be sent, before its `send` call; the returned
   * function withdraws the announcement and must be called once, whether or not the send happened.
   */
  expect(hash: Hex): () => void {
    this.#hold(hash);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(hash);
    };
  }

  send(wallet: Address, hash: Hex, raw: Hex): Promise<BroadcastResult> {
    let lane = this.#lanes.get(wallet);
    if (lane === undefined) {
      lane = new Mutex();
      this.#lanes.set(wallet, lane);
    }
    this.#hold(hash);
    return lane
      .run(() => this.#sendNow(wallet, hash, raw))
      .finally(() => {
        this.#release(hash);
      });
  }

  #hold(hash: Hex): void {
    this.#pending.set(hash, (this.#pending.get(hash) ?? 0) + 1);
  }

  #release(hash: Hex): void {
    const count = (this.#pending.get(hash) ?? 0) - 1;
    if (count > 0) this.#pending.set(hash, count);
    else this.#pending.delete(hash);
  }

  async #sendNow(wallet: Address, hash: Hex, raw: Hex): Promise<BroadcastResult> {
    let result: BroadcastResult;
    try {
      await this.#client.request({ method: "eth_sendRawTransaction", params: [raw] });
      result = "accepted";
    } catch (error) {
      result = classifyRpcError(error);
      this.#metrics.rpcErrors.inc({ method: "eth_sendRawTransaction", class: result });
      this.#logger.warn({ wallet, hash, result, error: rpcErrorMessage(error) }, "broadcast failed");
    }
    this.#metrics.broadcasts.inc({ result });
    if (result === "accepted" || isAlreadySubmitted(result)) {
      await this.#store.markBroadcast(hash, Date.now());
      this.#onAccepted();
    }
    return result;
  }
}
