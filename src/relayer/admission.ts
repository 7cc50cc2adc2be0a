import { ApiError } from "./errors.ts";

/** While submissions wait for room, the queue is counted again at least this often. */
const RECOUNT_MS = 20;

interface Waiter {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/** What the gate needs. */
export interface AdmissionDeps {
  /** Most requests that may wait for a batch (accepted, not yet in a transaction), or 0 for no limit. */
  maxQueued: number;
  /** How long a submission may wait for room before it is refused `QUEUE_FULL`. */
  maxWaitMs: number;
  /** Counts the requests waiting for a batch in the store (every instance's), up to `cap`. */
  countQueued: (cap: number) => Promise<number>;
  /** Called with the number of submissions waiting, whenever it changes. */
  onWaiting?: (waiting: number) => void;
}

/**
 * Backpressure on intake. A payment accepted behind a backlog of many batches waits for all of them, so under
 * overload a relayer that accepts everything lets latency grow without bound while it settles no faster. This
 * gate keeps the queue of accepted requests under `maxQueued`: beyond it, a new submission waits (before any
 * check, holding nothing) until batches have taken requests out, and is refused `QUEUE_FULL` (`503`, retry
 * later) if no room appears within `maxWaitMs`. So an accepted payment goes out in one of the next batches.
 *
 * The queue is counted in the store first, then only when the estimate (last count + accepted since + being
 * checked) reaches the limit, so below it the gate costs nothing; with PostgreSQL the count covers every
 * instance.
 *
 * @example
 * await admission.enter();           // may wait; throws ApiError("QUEUE_FULL")
 * try { accepted = await check(); } finally { admission.leave(accepted); }
 */
export class Admission {
  readonly #deps: AdmissionDeps;
  /** Queued at the last count (none yet: the first submission counts, e.g. a backlog left by a restart). */
  #counted: number | undefined;
  /** Accepted since the last count. */
  #acceptedSince = 0;
  /** Let in and not yet accepted or turned away. */
  #inCheck = 0;
  readonly #waiters: Waiter[] = [];
  #pumping = false;
  #wake: (() => void) | undefined;

  constructor(deps: AdmissionDeps) {
    this.#deps = deps;
  }

  /** Submissions waiting for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves when the submission may be checked; rejects with `QUEUE_FULL` after `maxWaitMs`. */
  enter(): Promise<void> {
    if (this.#deps.maxQueued === 0 || (this.#waiters.length === 0 && this.#hasRoom())) {
      this.#inCheck++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          this.#deps.onWaiting?.(this.#waiters.length);
          reject(
            new ApiError(
              "QUEUE_FULL",
              `${this.#deps.maxQueued} requests are already waiting for a batch; retry shortly.`,
            ),
          );
        }, this.#deps.maxWaitMs),
      };
      this.#waiters.push(waiter);
      this.#deps.onWaiting?.(this.#waiters.length);
      void this.#pump();
    });
  }

  /** Ends a submission let in by `enter`: `accepted` if it joined the queue. */
  leave(accepted: boolean): void {
    this.#inCheck--;
    if (accepted) this.#acceptedSince++;
  }

  /** Requests left the queue (a batch took them): count again now if anyone waits. */
  dequeued(): void {
    this.#wake?.();
  }

  #hasRoom(): boolean {
    return (
      this.#counted !== undefined &&
      this.#counted + this.#acceptedSince + this.#inCheck < this.#deps.maxQueued
    );
  }

  /** Lets the longest-waiting submission in. */
  #admitNext(): void {
    const waiter = this.#waiters.shift() as Waiter;
    clearTimeout(waiter.timer);
    this.#inCheck++;
    waiter.resolve();
  }

  /** While anyone waits: count the queue, let in as many as fit, and wait for a batch or `RECOUNT_MS`. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiters.length > 0) {
        const counted = await this.#deps.countQueued(this.#deps.maxQueued);
        // Accepted before the count are in it; a submission still in its checks is counted by #inCheck.
        this.#counted = counted;
        this.#acceptedSince = 0;
        let admitted = false;
        while (this.#waiters.length > 0 && this.#hasRoom()) {
          this.#admitNext();
          admitted = true;
        }
        if (admitted) this.#deps.onWaiting?.(this.#waiters.length);
        if (this.#waiters.length === 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RECOUNT_MS);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    } catch {
      // The store could not count: let everyone in rather than stall intake; the checks that follow read it too.
      while (this.#waiters.length > 0) this.#admitNext();
      this.#deps.onWaiting?.(0);
    } finally {
      this.#pumping = false;
    }
  }
}
