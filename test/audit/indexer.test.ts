import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, http, toEventSelector, type PublicClient } from "viem";

import type { AuditedDeployment } from "../../src/audit/verifyDeployment.ts";
import { AuditError } from "../../src/audit/errors.ts";
import { indexDeployment } from "../../src/audit/indexer.ts";
import { runAudit } from "../../src/audit/runAudit.ts";
import { openAuditStore } from "../../src/audit/store.ts";
import { readDeploymentFile, writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import { QRSettleError } from "../../src/protocol/errors.ts";
import { serveOverHttp } from "./rpcProxy.ts";
import {
  deploySampleNetwork,
  writeSampleHistory,
  type SampleHistory,
  type SampleNetwork,
} from "./sampleHistory.ts";

describe("audit indexer: reorgs, damaged stores, wrong deployment files, flaky nodes", function () {
  let sample: SampleNetwork;
  let history: SampleHistory;
  let dir: string;
  let deployment: AuditedDeployment;
  let fileCounter = 0;
  const freshStore = (): string => path.join(dir, `store-${++fileCounter}.sqlite`);

  before(async function () {
    sample = await deploySampleNetwork(await network.create());
    history = await writeSampleHistory(sample);
    dir = await mkdtemp(path.join(tmpdir(), "qrsettle-indexer-"));
    deployment = sample.deployment;
  });

  after(async function () {
    await sample.connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  const audit = (dbFile: string, overrides: Partial<Parameters<typeof runAudit>[0]> = {}) =>
    runAudit({
      client: sample.publicClient,
      deployment,
      dbFile,
      confirmations: 0n,
      workers: 1,
      ...overrides,
    });

  const rpc = (method: string, params: unknown[] = []): Promise<unknown> =>
    sample.connection.provider.request({ method, params });

  /** A payment from Bob to the tea house, settled on its own. */
  async function payBob(nonce: bigint, amount: bigint) {
    const { bob } = history.customers;
    const p = await sample.payment(
      bob.address,
      history.merchants.teaHouse.address,
      sample.banks.A,
      amount,
      nonce,
    );
    return sample.settle(sample.actors.relayerA, [await sample.sign(bob, p)]);
  }

  it("undoes the events of blocks a reorg replaced and indexes the new branch", async function () {
    const dbFile = freshStore();
    expect((await audit(dbFile)).report.passed).to.equal(true);
    const snapshot = await rpc("evm_snapshot");
    const orphaned = await payBob(10n, 1_00n);
    const before = await audit(dbFile);
    expect(before.report.passed).to.equal(true);

    await rpc("evm_revert", [snapshot]);
    const replacement = await payBob(11n, 2_00n);
    await rpc("evm_mine");
    const progress: string[] = [];
    const after = await audit(dbFile, { progress: (line) => progress.push(line) });

    expect(after.index.reorgs).to.have.length(1);
    expect(progress.some((line) => line.startsWith("reorg:"))).to.equal(true);
    expect(after.report.passed, JSON.stringify(after.report.anomalies)).to.equal(true);
    const db = new DatabaseSync(dbFile);
    const hasPayment = (id: string) =>
      db
        .prepare("SELECT count(*) AS n FROM logs WHERE topic0 = ? AND data LIKE ?")
        .get(toEventSelector("PaymentSettled(address,address,bytes32,bytes32,uint256)"), `0x${id.slice(2)}%`)
        ?.n;
    expect(hasPayment(orphaned.settled[0]?.paymentId ?? "")).to.equal(0);
    expect(hasPayment(replacement.settled[0]?.paymentId ?? "")).to.equal(1);
    db.close();
  });

  it("repairs a checkpoint that was corrupted, points past the head, or whose headers were all damaged", async function () {
    const junk = `'0x${"ab".repeat(32)}'`;
    const clean = await audit(freshStore());
    for (const corrupt of [
      `UPDATE checkpoint SET block_hash = ${junk}`,
      "UPDATE checkpoint SET block_number = block_number + 1000",
      `UPDATE blocks SET hash = ${junk}; UPDATE checkpoint SET block_hash = ${junk}`,
    ]) {
      const dbFile = freshStore();
      await audit(dbFile);
      const db = new DatabaseSync(dbFile);
      db.exec(corrupt);
      db.close();
      const { report } = await audit(dbFile);
      expect(report.passed, corrupt).to.equal(true);
      expect(report.indexed.events, corrupt).to.equal(clean.report.indexed.events);
    }
  });

  it("refuses a store that is not a SQLite database, or belongs to another deployment", async function () {
    const garbage = freshStore();
    await writeFile(garbage, "this is not a database, it was overwritten by accident".repeat(100));
    await expectAuditError(audit(garbage), "AUDIT_STORE_CORRUPT");

    const dbFile = freshStore();
    await audit(dbFile);
    expect(() => openAuditStore(dbFile, { ...deployment, ledger: deployment.registry })).to.throw(
      AuditError,
      /another deployment/,
    );
  });

  it("resumes after a crash mid-index without losing or repeating events", async function () {
    const dbFile = freshStore();
    let calls = 0;
    const proxy = await serveOverHttp(sample.connection.provider, ({ method }) =>
      method === "eth_getLogs" && ++calls > 3 ? "connection reset" : undefined,
    );
    try {
      const store = openAuditStore(dbFile, deployment);
      const crashing = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) }) as PublicClient;
      await expectAuditError(
        indexDeployment({
          client: crashing,
          store,
          deployment,
          confirmations: 0n,
          range: { initial: 4n, max: 4n },
          maxAttempts: 1,
        }),
        "AUDIT_RPC",
      );
      const partial = store.logCount();
      store.close();
      expect(partial).to.be.greaterThan(0);
      const { report, index } = await audit(dbFile);
      expect(index.logsAdded).to.be.greaterThan(0);
      expect(report.passed, JSON.stringify(report.anomalies)).to.equal(true);
      expect(report.indexed.events).to.equal(partial + index.logsAdded);
    } finally {
      await proxy.close();
    }
  });

  it("shrinks its block ranges when the node refuses large ones, and grows them when answers are cheap", async function () {
    const refusedRanges: bigint[] = [];
    const proxy = await serveOverHttp(sample.connection.provider, ({ method, params }) => {
      if (method !== "eth_getLogs") return undefined;
      const { fromBlock, toBlock } = params[0] as { fromBlock: string; toBlock: string };
      const blocks = BigInt(toBlock) - BigInt(fromBlock) + 1n;
      if (blocks <= 8n) return undefined;
      refusedRanges.push(blocks);
      return "query returned more than 10000 results";
    });
    try {
      const client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) }) as PublicClient;
      const progress: string[] = [];
      const { report } = await audit(freshStore(), { client, progress: (line) => progress.push(line) });
      expect(report.passed).to.equal(true);
      expect(refusedRanges.length).to.be.greaterThan(0);
      expect(progress.filter((line) => line.includes("retrying smaller"))).to.have.length(
        refusedRanges.length,
      );
      const ranges = proxy.requests
        .filter((r) => r.method === "eth_getLogs")
        .map((r) => r.params[0] as { fromBlock: string; toBlock: string })
        .map(({ fromBlock, toBlock }) => BigInt(toBlock) - BigInt(fromBlock) + 1n);
      const firstServed = ranges.findIndex((blocks) => blocks <= 8n);
      // Halved down to what the node serves, then grown again until refused once more.
      expect(ranges.slice(0, firstServed).every((blocks) => blocks > 8n)).to.equal(true);
      expect(ranges.slice(firstServed).some((blocks) => blocks > 8n)).to.equal(true);
    } finally {
      await proxy.close();
    }
  });

  describe("a deployment file that does not match the chain", function () {
    it("is refused for another chain id", async function () {
      await expectAuditError(
        audit(freshStore(), { deployment: { ...deployment, chainId: 1 } }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /another chain id/,
      );
    });

    it("is refused when the addresses are swapped, empty, or the ledger uses another registry", async function () {
      const swapped = { ...deployment, registry: deployment.ledger, ledger: deployment.registry };
      await expectAuditError(
        audit(freshStore(), { deployment: swapped }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /no QRSettle ledger/,
      );
      const empty = { ...deployment, registry: "0x000000000000000000000000000000000000dEaD" as const };
      await expectAuditError(
        audit(freshStore(), { deployment: empty }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /no contract/,
      );
      const otherRegistry = { ...deployment, registry: sample.deployment.ledger };
      await expectAuditError(
        audit(freshStore(), { deployment: otherRegistry }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /another registry/,
      );
    });

    it("is refused when its deployBlock is after the deployment, which would skip events", async function () {
      const late = { ...deployment, deployBlock: 5n };
      await expectAuditError(
        audit(freshStore(), { deployment: late }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /deployBlock/,
      );
    });

    it("is refused when the FX module is missing or bound to another ledger", async function () {
      await expectAuditError(
        audit(freshStore(), { deployment: { ...deployment, fx: deployment.registry } }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /no QRSettle FX module/,
      );
      const empty = { ...deployment, fx: "0x000000000000000000000000000000000000dEaD" as const };
      await expectAuditError(
        audit(freshStore(), { deployment: empty }),
        "AUDIT_DEPLOYMENT_MISMATCH",
        /no contract at the fx address/,
      );
    });

    it("is the deployer's file, read as written; not JSON or a missing field is refused", async function () {
      const file = path.join(dir, "deployment.json");
      await writeDeploymentFile(file, sample.deployment);
      expect(await readDeploymentFile(file)).to.deep.equal(sample.deployment);
      await writeFile(file, "{ not json");
      await expectError(readDeploymentFile(file), "DEPLOYMENT_FILE_UNREADABLE", /JSON/);
      await writeDeploymentFile(file, sample.deployment);
      const parsed = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      delete parsed.fx;
      await writeFile(file, JSON.stringify(parsed));
      await expectError(readDeploymentFile(file), "DEPLOYMENT_FILE_INVALID");
    });
  });
});

async function expectError(work: Promise<unknown>, code: string, message?: RegExp): Promise<QRSettleError> {
  let thrown: unknown;
  try {
    await work;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).to.be.instanceOf(QRSettleError);
  expect((thrown as QRSettleError).code).to.equal(code);
  if (message !== undefined) expect((thrown as QRSettleError).message).to.match(message);
  return thrown as QRSettleError;
}

async function expectAuditError(work: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  expect(await expectError(work, code, message)).to.be.instanceOf(AuditError);
}
