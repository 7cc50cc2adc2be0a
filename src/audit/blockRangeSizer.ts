/** Tuning of {@link BlockRangeSizer}. */
export interface BlockRangeSizerOptions {
  /** Blocks in the first range. */
  initial?: bigint;
  /** Largest range ever asked for; many providers refuse more than a few thousand blocks. */
  max?: bigint;
  /** Logs one answer should carry: fewer and the range grows, more and it shrinks. */
  targetLogs?: number;
}

/**
 * Picks the size of the next `eth_getLogs` block range: halves it when the node fails (too many results,
 * timeouts, range limits all look alike across providers) or an answer is too large, doubles it while
 * answers are cheap. One range of one block that still fails is the caller's to give up on.
 *
 * @example
 * const sizer = new BlockRangeSizer();
 * const to = from + sizer.size - 1n;
 * try { const logs = await getLogs(from, to); sizer.succeeded(logs.length); } catch { sizer.failed(to - from + 1n); }
 */
export class BlockRangeSizer {
  #size: bigint;
  readonly #max: bigint;
  readonly #targetLogs: number;

  constructor({ initial = 1_000n, max = 100_000n, targetLogs = 10_000 }: BlockRangeSizerOptions = {}) {
    this.#size = initial < 1n ? 1n : initial;
    this.#max = max;
    this.#targetLogs = targetLogs;
  }

  /** Blocks to ask for next. */
  get size(): bigint {
    return this.#size;
  }

  /** Records a successful answer with `logCount` logs. */
  succeeded(logCount: number): void {
    if (logCount > this.#targetLogs) this.#shrink();
    else if (logCount < this.#targetLogs / 2 && this.#size < this.#max) {
      this.#size = this.#size * 2n > this.#max ? this.#max : this.#size * 2n;
    }
  }

  /**
   * Records a failed request for a range of `triedBlocks` (which may be less than `size` near the head);
   * the next range is half of it. Returns false if it was already a single block.
   */
  failed(triedBlocks: bigint = this.#size): boolean {
    this.#size = triedBlocks < this.#size ? triedBlocks : this.#size;
    const couldShrink = this.#size > 1n;
    this.#shrink();
    return couldShrink;
  }

  #shrink(): void {
    this.#size = this.#size / 2n < 1n ? 1n : this.#size / 2n;
  }
}
