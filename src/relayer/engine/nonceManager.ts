import type { Address, PublicClient } from "viem";

import type { RelayerLogger } from "../logger.ts";
import type { RelayerStore } from "../store/types.ts";

/** A wallet's nonces after reconciliation. */
export interface NonceState {
  /** The nonce the next batch transaction takes. */
  next: number;
  /** Nonces the chain still waits for that no stored transaction holds: each must be filled, or every later
   * transaction of the wallet stays stuck behind it. */
  gaps: number[];
}

/**
 * Keeps each hot wallet's nonce sequence. The store is the source of truth: a nonce is taken only in the same
 * commit that stores the signed transaction using it (compare-and-set in `submitBatch`), so a crash can never
 * leave a nonce used by two transactions or by a transaction that was not persisted. The chain corrects the
 * store when the key was used elsewhere (its pending nonce is ahead) and reveals gaps below it.
 *
 * @example
 * const { next, gaps } = await nonces.reconcile(wallet);
 */
export class NonceManager {
  readonly #store: RelayerStore;
  readonly #client: PublicClient;
  readonly #logger: RelayerLogger;

  constructor(deps: { store: RelayerStore; client: PublicClient; logger: RelayerLogger }) {
    this.#store = deps.store;
    this.#client = deps.client;
    this.#logger = deps.logger;
  }

  async reconcile(wallet: Address): Promise<NonceState> {
    const [latest, pending] = await Promise.all([
      this.#client.getTransactionCount({ address: wallet, blockTag: "latest" }),
      this.#client.getTransactionCount({ address: wallet, blockTag: "pending" }),
    ]);
    await this.#store.ensureWallet(wallet, 0);
    const stored = await this.#store.nextNonce(wallet);
    if (pending > stored) {
      // Transactions we never stored use this key: someone else sends with it, or the store was replaced.
      this.#logger.warn(
        { wallet, stored, chainPending: pending },
        "wallet nonce is ahead of the store; raising it",
      );
      await this.#store.raiseNextNonce(wallet, pending);
    }
    const next = Math.max(stored, pending);
    const held = new Set(await this.#store.transactionNonces(wallet, latest));
    const gaps: number[] = [];
    for (let nonce = latest; nonce < next; nonce++) if (!held.has(nonce)) gaps.push(nonce);
    if (gaps.length > 0) this.#logger.warn({ wallet, gaps }, "nonce gaps found; filling them");
    return { next, gaps };
  }

  /** The nonce the wallet's next transaction takes. */
  next(wallet: Address): Promise<number> {
    return this.#store.nextNonce(wallet);
  }
}
