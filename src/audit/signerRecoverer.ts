import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { Address, Hex } from "viem";

import { toCompactSignature } from "../protocol/batch.ts";
import type { RecoverRequest, RecoverResponse } from "./recoverWorker.ts";

/** One signature to recover: the signed digest and the EIP-2098 compact signature (r ‖ vs). */
export interface CompactSignatureJob {
  digest: Hex;
  signature: Hex;
}

const ZERO_ADDRESS: Address = `0x${"00".repeat(20)}`;

/**
 * Recovers ECDSA signers on worker threads (one per core), with a bound on the chunks in flight so a long
 * history never queues more than a few batches of work. Recovery is most of an audit's CPU time: the
 * payments of one batch go to one worker as one chunk.
 *
 * @example
 * const recoverer = new SignerRecoverer();
 * await recoverer.whenReady();
 * const [signer] = await recoverer.recover([{ digest: paymentId, signature: compact }]);
 * await recoverer.close();
 */
export class SignerRecoverer {
  readonly #workers: { worker: Worker; busy: number }[];
  readonly #pending = new Map<
    number,
    { resolve: (signers: Uint8Array) => void; reject: (e: Error) => void }
  >();
  readonly #maxInFlightPerWorker: number;
  #waiters: (() => void)[] = [];
  #nextId = 0;

  constructor(workers = availableParallelism(), maxInFlightPerWorker = 2) {
    this.#maxInFlightPerWorker = maxInFlightPerWorker;
    this.#workers = Array.from({ length: Math.max(1, workers) }, () => {
      const worker = new Worker(new URL("./recoverWorker.ts", import.meta.url));
      const slot = { worker, busy: 0 };
      worker.on("message", ({ id, signers }: RecoverResponse) => {
        slot.busy -= 1;
        this.#pending.get(id)?.resolve(new Uint8Array(signers));
        this.#pending.delete(id);
        this.#waiters.shift()?.();
      });
      // A worker that dies takes its chunks with it: fail them all rather than wait forever.
      worker.on("error", (error) => {
        for (const { reject } of this.#pending.values()) reject(error);
        this.#pending.clear();
      });
      return slot;
    });
  }

  /** Resolves once a worker can take another chunk; await it before {@link recover} to bound the work queued. */
  async whenReady(): Promise<void> {
    while (this.#leastBusy().busy >= this.#maxInFlightPerWorker) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * The signer of each signature, lowercase; the zero address where the ledger's `ecrecover` check would
   * fail (high s, not on the curve). The chunk goes to the least busy worker at once.
   */
  async recover(jobs: readonly CompactSignatureJob[]): Promise<Address[]> {
    if (jobs.length === 0) return [];
    const slot = this.#leastBusy();
    const digests = new Uint8Array(jobs.length * 32);
    const signatures = new Uint8Array(jobs.length * 64);
    jobs.forEach(({ digest, signature }, i) => {
      digests.set(Buffer.from(digest.slice(2), "hex"), i * 32);
      signatures.set(Buffer.from(signature.slice(2), "hex").subarray(0, 64), i * 64);
    });
    const id = this.#nextId++;
    slot.busy += 1;
    const signers = await new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: RecoverRequest = {
        id,
        count: jobs.length,
        digests: digests.buffer,
        signatures: signatures.buffer,
      };
      slot.worker.postMessage(request, [digests.buffer, signatures.buffer]);
    });
    return jobs.map((_, i): Address => {
      const hex = Buffer.from(signers.subarray(i * 20, i * 20 + 20)).toString("hex");
      return hex === "0".repeat(40) ? ZERO_ADDRESS : `0x${hex}`;
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }

  #leastBusy() {
    return this.#workers.reduce((best, slot) => (slot.busy < best.busy ? slot : best));
  }
}

/**
 * The EIP-2098 form of a 64-byte or a 65-byte ECDSA signature with v 27 or 28 (OpenZeppelin's `ECDSA`
 * refuses other v), or undefined.
 *
 * @example
 * const compact = toRecoverableCompact(request.signature); // then recoverer.recover([{ digest, signature: compact }])
 */
export function toRecoverableCompact(signature: Hex): Hex | undefined {
  if (signature.length === 132 && !/(1b|1c)$/i.test(signature)) return undefined;
  try {
    return toCompactSignature(signature);
  } catch {
    return undefined;
  }
}
