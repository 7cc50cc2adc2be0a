import type { Address } from "viem";

import { rpcErrorMessage } from "../chain/classifyRpcError.ts";
import { retryTransient } from "../chain/retryTransient.ts";
import type { HotWallet } from "../chain/hotWallets.ts";
import type { RelayerLogger } from "../logger.ts";
import type { RelayerStore } from "../store/types.ts";
import type { NonceManager } from "./nonceManager.ts";

/** What wallet leasing needs. */
export interface WalletLeasesDeps {
  store: RelayerStore;
  wallets: readonly HotWallet[];
  instance: string;
  leaseSeconds: number;
  nonces: NonceManager;
  fillGap: (wallet: HotWallet, nonce: number) => Promise<void>;
  logger: RelayerLogger;
  /** Called when the set of held wallets changes. */
  onChange: () => void;
}

/**
 * Which hot wallets this instance may send with. Instances sharing a PostgreSQL queue may be given the same
 * keys: each wallet is leased to one instance at a time (renewed every third of `leaseSeconds`), so its nonces
 * have one writer; when an instance dies, another takes its wallets over once the lease expires, together with
 * their unfinished transactions. A newly leased wallet is reconciled with the chain and its nonce gaps filled.
 *
 * @example
 * const leases = new WalletLeases({ store, wallets, instance, leaseSeconds: 30, nonces, fillGap, logger, onChange });
 * await leases.start();
 * leases.held(); // Map of the wallets this instance holds
 */
export class WalletLeases {
  readonly #deps: WalletLeasesDeps;
  readonly #held = new Map<Address, HotWallet>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: WalletLeasesDeps) {
    this.#deps = deps;
  }

  held(): ReadonlyMap<Address, HotWallet> {
    return this.#held;
  }

  async start(): Promise<void> {
    await this.renew();
    this.#timer = setInterval(
      () => {
        this.renew().catch((error: unknown) => {
          this.#deps.logger.error({ error: rpcErrorMessage(error) }, "renewing wallet leases failed");
        });
      },
      (this.#deps.leaseSeconds * 1000) / 3,
    );
  }

  /** Renews held leases and tries to take free or expired ones. */
  async renew(): Promise<void> {
    const { store, wallets, instance, leaseSeconds, logger } = this.#deps;
    let changed = false;
    for (const wallet of wallets) {
      const now = Date.now();
      await store.ensureWallet(wallet.address, 0);
      const leased = await store.leaseWallet(wallet.address, instance, now + leaseSeconds * 1000, now);
      if (leased && !this.#held.has(wallet.address)) {
        try {
          const { gaps } = await retryTransient(() => this.#deps.nonces.reconcile(wallet.address));
          for (const nonce of gaps) await this.#deps.fillGap(wallet, nonce);
        } catch (error) {
          // Not used until its nonces are known; the next renewal tries again.
          logger.error(
            { wallet: wallet.address, error: rpcErrorMessage(error) },
            "could not reconcile a leased wallet",
          );
          continue;
        }
        this.#held.set(wallet.address, wallet);
        logger.info({ wallet: wallet.address }, "wallet leased");
        changed = true;
      } else if (!leased && this.#held.delete(wallet.address)) {
        logger.error({ wallet: wallet.address }, "wallet lease lost to another instance");
        changed = true;
      }
    }
    if (changed) this.#deps.onChange();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const address of this.#held.keys())
      await this.#deps.store.releaseWallet(address, this.#deps.instance);
    this.#held.clear();
  }
}
