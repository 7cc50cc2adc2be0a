import type { Hex } from "viem";

/**
 * A checker that judges one transaction at a time: it collects the transaction's events as the reconciler
 * reads them, and checks them together once the next transaction's events begin (or the history ends),
 * since calldata and events are matched request by request.
 */
export abstract class TransactionChecker<E extends { at: { transactionHash: Hex } }> {
  #events: E[] = [];

  /** The transaction whose events are being collected, if any. */
  get transactionHash(): Hex | undefined {
    return this.#events[0]?.at.transactionHash;
  }

  add(event: E): void {
    this.#events.push(event);
  }

  /** Checks the collected transaction's events, if there are any, and starts a new collection. */
  async close(): Promise<void> {
    const events = this.#events;
    this.#events = [];
    if (events.length > 0) await this.check(events as [E, ...E[]]);
  }

  /** Checks one transaction's events, in log order. */
  protected abstract check(events: [E, ...E[]]): Promise<void>;
}
