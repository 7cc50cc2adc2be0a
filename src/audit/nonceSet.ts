/** Width of the ledger's nonce window (`AccountLib.WINDOW`). */
const WINDOW = 64n;

/**
 * The set of an account's nonces that can no longer be used, in the ledger's own canonical form: every
 * nonce below `base` plus a bitmap of the 64 above it, `base` always the lowest usable nonce. Uses and
 * invalidations are set unions, so replaying them in any order gives the state `getAccount` reports.
 *
 * @example
 * const nonces = new NonceSet();
 * nonces.use(0n); nonces.use(2n);
 * [nonces.base, nonces.bitmap]; // [1n, 2n]: nonce 1 free, nonce 2 used
 */
export class NonceSet {
  #base = 0n;
  readonly #used = new Set<bigint>();

  /** The lowest nonce still usable: every nonce below it is used or cancelled. */
  get base(): bigint {
    return this.#base;
  }

  /** Bit i set ⇔ nonce `base + i` used, as `AccountView.nonceBitmap`. */
  get bitmap(): bigint {
    let bitmap = 0n;
    for (const nonce of this.#used) {
      if (nonce - this.#base < WINDOW) bitmap |= 1n << (nonce - this.#base);
    }
    return bitmap;
  }

  /** Marks a nonce used; returns false if it already was (the ledger would have refused it). */
  use(nonce: bigint): boolean {
    if (nonce < this.#base || this.#used.has(nonce)) return false;
    this.#used.add(nonce);
    this.#slide();
    return true;
  }

  /** Marks every nonce below `newBase` used, as `invalidateNonces`. */
  invalidateBelow(newBase: bigint): void {
    if (newBase <= this.#base) return;
    this.#base = newBase;
    for (const nonce of this.#used) if (nonce < newBase) this.#used.delete(nonce);
    this.#slide();
  }

  #slide(): void {
    while (this.#used.delete(this.#base)) this.#base += 1n;
  }
}
