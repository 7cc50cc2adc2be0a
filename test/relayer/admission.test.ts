import { expect } from "chai";

import { Admission } from "../../src/relayer/admission.ts";
import { ApiError } from "../../src/relayer/errors.ts";

/** A queue the gate counts: `queued` requests wait for a batch; `counts` records each count. */
function queue(queued: number) {
  const state = { queued, counts: 0, fail: false };
  const countQueued = (cap: number) => {
    state.counts++;
    if (state.fail) return Promise.reject(new Error("database is locked"));
    return Promise.resolve(Math.min(state.queued, cap));
  };
  return { state, countQueued };
}

const settled = <T>(promise: Promise<T>) =>
  Promise.race([
    promise.then(
      () => "entered",
      (error: unknown) => (error instanceof ApiError ? error.code : "other error"),
    ),
    new Promise((resolve) => {
      setTimeout(() => {
        resolve("waiting");
      }, 30);
    }),
  ]);

describe("relayer admission (backpressure)", function () {
  it("lets submissions in without counting while the estimate is below the limit", async function () {
    const { state, countQueued } = queue(0);
    const admission = new Admission({ maxQueued: 3, maxWaitMs: 1_000, countQueued });
    for (let i = 0; i < 3; i++) {
      await admission.enter();
      admission.leave(true);
    }
    expect(state.counts).to.equal(1); // the first submission counts what a restart may have left
  });

  it("holds a submission at the limit until a batch takes requests out, then lets it in", async function () {
    const { state, countQueued } = queue(0);
    const waiting: number[] = [];
    const admission = new Admission({
      maxQueued: 2,
      maxWaitMs: 5_000,
      countQueued,
      onWaiting: (n) => waiting.push(n),
    });
    for (let i = 0; i < 2; i++) {
      await admission.enter();
      admission.leave(true);
    }
    state.queued = 2;
    const third = admission.enter();
    expect(await settled(third)).to.equal("waiting");
    expect(admission.waiting).to.equal(1);

    state.queued = 0; // a batch claimed both
    admission.dequeued();
    expect(await settled(third)).to.equal("entered");
    expect(admission.waiting).to.equal(0);
    expect(waiting.slice(-2)).to.deep.equal([1, 0]);
  });

  it("counts submissions still in their checks, so a burst cannot overshoot the limit", async function () {
    const { countQueued } = queue(0);
    const admission = new Admission({ maxQueued: 2, maxWaitMs: 5_000, countQueued });
    const first = admission.enter();
    const second = admission.enter();
    const third = admission.enter();
    expect(await settled(first)).to.equal("entered");
    expect(await settled(second)).to.equal("entered");
    expect(await settled(third)).to.equal("waiting");
    // One of the two was refused by its checks: it never joined the queue, so there is room again.
    admission.leave(false);
    admission.dequeued();
    expect(await settled(third)).to.equal("entered");
  });

  it("refuses QUEUE_FULL when no room appears within maxWaitMs", async function () {
    const { countQueued } = queue(5);
    const admission = new Admission({ maxQueued: 5, maxWaitMs: 50, countQueued });
    const started = Date.now();
    const error = await admission.enter().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ApiError);
    expect((error as ApiError).code).to.equal("QUEUE_FULL");
    expect((error as ApiError).status).to.equal(503);
    expect(Date.now() - started).to.be.at.least(45);
    expect(admission.waiting).to.equal(0);
  });

  it("lets waiting submissions in when the store cannot count (their checks read it anyway)", async function () {
    const { state, countQueued } = queue(1);
    const admission = new Admission({ maxQueued: 1, maxWaitMs: 5_000, countQueued });
    state.fail = true;
    expect(await settled(admission.enter())).to.equal("entered");
  });

  it("never waits with maxQueued 0 (no limit)", async function () {
    const { state, countQueued } = queue(1_000_000);
    const admission = new Admission({ maxQueued: 0, maxWaitMs: 10, countQueued });
    await Promise.all(Array.from({ length: 100 }, () => admission.enter()));
    expect(state.counts).to.equal(0);
  });
});
