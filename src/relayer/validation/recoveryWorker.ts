/**
 * Worker thread of `createSignerRecovery`: recovers the signers of a batch of jobs. Each job is 97 bytes,
 * digest (32) ‖ r ‖ s (64) ‖ recovery id (1); each answer 21 bytes, found (1) ‖ address (20).
 */
import { parentPort } from "node:worker_threads";

import { recoverAddress } from "./ecdsa.ts";
import { createKeccak256 } from "./keccak.ts";

const JOB_BYTES = 97;
const ANSWER_BYTES = 21;
const keccak = await createKeccak256();

parentPort?.on("message", (message: { id: number; jobs: Uint8Array }) => {
  const count = message.jobs.length / JOB_BYTES;
  const answers = new Uint8Array(count * ANSWER_BYTES);
  for (let i = 0; i < count; i++) {
    const job = message.jobs.subarray(i * JOB_BYTES, (i + 1) * JOB_BYTES);
    const signer = recoverAddress(keccak, job.subarray(0, 32), {
      rs: job.subarray(32, 96),
      recoveryId: job[96] as 0 | 1,
    });
    if (signer !== undefined) {
      answers[i * ANSWER_BYTES] = 1;
      answers.set(Buffer.from(signer.slice(2), "hex"), i * ANSWER_BYTES + 1);
    }
  }
  parentPort?.postMessage({ id: message.id, answers }, [answers.buffer]);
});
