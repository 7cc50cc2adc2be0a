/**
 * A promise-based mutual exclusion lock: `run` calls queue up and run one at a time, in call order.
 *
 * @example
 * const lock = new Mutex();
 * await lock.run(async () => { ... }); // nothing else in `lock.run` meanwhile
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier `run` has finished; resolves or rejects with `fn`'s result. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
