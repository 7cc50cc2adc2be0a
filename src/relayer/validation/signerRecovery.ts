import { Worker } from "node:worker_threads";

import type { Address } from "viem";

import { RelayerError } from "../errors.ts";
import { recoverAddress, type EcdsaSignature } from "./ecdsa.ts";
import { createKeccak256 } from "./keccak.ts";

/** Recovers ECDSA signers, on the main thread or on worker threads. */
export interface SignerRecovery {
  /** The signer of `digest`, or undefined if the signature is not a valid point. */
  recover(digest: Uint8Array, signature: EcdsaSignature): Promise<Address | undefined>;
  close(): Promise<void>;
}

const JOB_BYTES = 97;
const ANSWER_BYTES = 21;

interface PendingBatch {
  resolvers: ((signer: Address | undefined) => void)[];
  reject: (error: unknown) => void;
}

/**
 * Signer recovery with `workers` worker threads, or on the calling thread when `workers` is 0. Recovery is the
 * relayer's most expensive check (~0.05 ms per payment natively, ~0.2 ms in WebAssembly); workers let it use
 * another core while the main thread serves HTTP. Jobs arriving in one event-loop turn travel to a worker as
 * one message.
 *
 * @example
 * const recovery = await createSignerRecovery(1);
 * const signer = await recovery.recover(digest, parseEcdsaSignature(signature) as EcdsaSignature);
 * await recovery.close();
 */
export async function createSignerRecovery(workers: number): Promise<SignerRecovery> {
  if (workers === 0) {
    const keccak = await createKeccak256();
    return {
      recover: (digest, signature) => Promise.resolve(recoverAddress(keccak, digest, signature)),
      close: () => Promise.resolve(),
    };
  }
  const pool = Array.from({ length: workers }, () => ({
    worker: new Worker(new URL("./recoveryWorker.ts", import.meta.url)),
    busy: 0,
  }));
  const pending = new Map<number, PendingBatch>();
  let nextId = 0;
  let queued: {
    job: Uint8Array;
    resolve: (signer: Address | undefined) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let failure: unknown;

  for (const member of pool) {
    member.worker.on("message", (message: { id: number; answers: Uint8Array }) => {
      const batch = pending.get(message.id);
      pending.delete(message.id);
      member.busy -= batch?.resolvers.length ?? 0;
      batch?.resolvers.forEach((resolve, i) => {
        const at = i * ANSWER_BYTES;
        resolve(
          message.answers[at] === 1
            ? `0x${Buffer.from(message.answers.subarray(at + 1, at + ANSWER_BYTES)).toString("hex")}`
            : undefined,
        );
      });
    });
    member.worker.on("error", (error) => {
      failure = error;
      for (const batch of pending.values()) batch.reject(error);
      pending.clear();
    });
  }

  const flush = () => {
    const jobs = queued;
    queued = [];
    const member = pool.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least));
    const buffer = new Uint8Array(jobs.length * JOB_BYTES);
    jobs.forEach(({ job }, i) => {
      buffer.set(job, i * JOB_BYTES);
    });
    const id = nextId++;
    pending.set(id, {
      resolvers: jobs.map(({ resolve }) => resolve),
      reject: (error) => {
        jobs.forEach(({ reject }) => {
          reject(error);
        });
      },
    });
    member.busy += jobs.length;
    member.worker.postMessage({ id, jobs: buffer }, [buffer.buffer]);
  };

  return {
    recover(digest, signature) {
      if (failure !== undefined) {
        return Promise.reject(
          new RelayerError("RECOVERY_WORKER_FAILED", "A recovery worker died.", { cause: failure }),
        );
      }
      const job = new Uint8Array(JOB_BYTES);
      job.set(digest, 0);
      job.set(signature.rs, 32);
      job[96] = signature.recoveryId;
      return new Promise((resolve, reject) => {
        if (queued.length === 0) setImmediate(flush);
        queued.push({ job, resolve, reject });
      });
    },
    async close() {
      await Promise.all(pool.map(({ worker }) => worker.terminate()));
    },
  };
}
