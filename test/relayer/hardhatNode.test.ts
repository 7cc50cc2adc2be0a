import { readFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import { getAbiItem, type Hex } from "viem";

import type { AuditReport } from "../../src/audit/auditReport.ts";
import { runAuditCommand } from "../../src/cli/audit.ts";
import { writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import { settlementLedgerAbi } from "../../src/protocol/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { startHardhatNode, type HardhatNode } from "../helpers/hardhatNode.ts";
import { call, postPayment, waitForFinal } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  settledOnChain,
  signPayment,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

const PAYERS = 4;
const PAYMENTS = 40;

/**
 * The relayer and the auditor against `hardhat node`: Hardhat's simulated chain in a separate process, reached
 * only over HTTP JSON-RPC, as a bank's developer runs it (the other end-to-end tests use the in-process EDR
 * network and Anvil).
 */
describe("relayer and auditor end to end on a `hardhat node`", function () {
  let node: HardhatNode | undefined;
  let net: TestNetwork | undefined;
  let relayer: Relayer | undefined;
  let dir: string;
  let cleanup: (() => Promise<void>) | undefined;
  /** Payment id → the view the relayer's API reported once it was final. */
  let final: Map<string, Record<string, unknown>>;

  before(async function () {
    node = await startHardhatNode();
    net = await deployTestNetwork({ network: "localhost", url: node.url });
    const keys = await relayerKeys(net, 2);
    ({ dir, cleanup } = await tempDir());
    // No custom transport: the relayer reaches the node by its URL, like in production.
    relayer = await startTestRelayer(testConfig(net, dir, node.url), keys);
  });

  after(async function () {
    // Each step runs even if the one before it failed, so no node, relayer or file outlives the test.
    const steps = [() => relayer?.stop(), () => net?.close(), () => node?.stop(), () => cleanup?.()];
    const errors: unknown[] = [];
    for (const step of steps) await step()?.catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  });

  it("settles signed payments sent over HTTP, each exactly once, where its API says", async function () {
    const chain = net as TestNetwork;
    const url = (relayer as Relayer).url;
    const ledger = ledgerAs(chain, chain.adminB);
    const merchantBefore = await ledger.read.balanceOf([chain.merchant, CNY]);
    const payers = await Promise.all(Array.from({ length: PAYERS }, () => customer(chain, 1_000_00n)));
    const signed = await Promise.all(
      Array.from({ length: PAYMENTS }, (_, i) => {
        const payer = payers[i % PAYERS] as Hex;
        return signPayment(
          chain,
          payer,
          payment(chain, payer, BigInt(100 + i), BigInt(Math.floor(i / PAYERS))),
        );
      }),
    );
    const ids = signed.map((s) => idOf(chain, s));

    const answers = await Promise.all(signed.map((s) => postPayment(url, s)));
    answers.forEach((answer, i) => {
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      expect(answer.body).to.deep.include({ id: ids[i], status: "accepted" });
    });

    final = await waitForFinal(url, ids, 20_000);
    const settled = await chain.publicClient.getLogs({
      address: chain.deployment.ledger,
      event: paymentSettled,
      fromBlock: chain.deployment.deployBlock,
    });
    const where = new Map(settled.map((log) => [String(log.args.paymentId), log]));
    for (const id of ids) {
      const view = final.get(id);
      expect(view, id).to.include({ status: "settled" });
      const log = where.get(id);
      expect(log, `no PaymentSettled for ${id}`).to.not.equal(undefined);
      expect(view?.txHash).to.equal(log?.transactionHash);
      expect(view?.blockNumber).to.equal(Number(log?.blockNumber));
      const one = await call(url, "GET", `/v1/payments/${id}`);
      expect(one.status).to.equal(200);
      expect(one.body).to.include({ id, status: "settled", txHash: log?.transactionHash });
    }
    // Exactly once each, and nothing settled that was not accepted (the chain is this test's alone).
    const onChain = await settledOnChain(chain);
    for (const id of ids) expect(onChain.get(id), id).to.equal(1);
    expect([...onChain.keys()].sort()).to.deep.equal([...ids].sort());
    const batches = new Set([...final.values()].map((view) => view.txHash));
    expect(batches.size).to.be.lessThan(PAYMENTS, "payments share batch transactions");
    const total = signed.reduce((sum, s) => sum + BigInt(s.payment.amount), 0n);
    expect(await ledger.read.balanceOf([chain.merchant, CNY])).to.equal(merchantBefore + total);

    // Sent again once settled: the same id and its final status, and still one settlement each.
    const again = await Promise.all(signed.slice(0, 5).map((s) => postPayment(url, s)));
    again.forEach((answer, i) => {
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ id: ids[i], status: "settled" });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await settledOnChain(chain)).to.deep.equal(onChain);
  });

  it("passes the audit of the same chain, run as `qrsettle audit --rpc <the node>`", async function () {
    const chain = net as TestNetwork;
    const deploymentFile = path.join(dir, "deployment.json");
    await writeDeploymentFile(deploymentFile, chain.deployment);
    const out = path.join(dir, "audit");
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runAuditCommand(
      [
        "--rpc",
        (node as HardhatNode).url,
        "--deployment",
        deploymentFile,
        "--out",
        out,
        "--confirmations",
        "0",
        "--db",
        path.join(dir, "audit.sqlite"),
      ],
      { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line) },
    );
    expect(code, [...stdout, ...stderr].join("\n")).to.equal(0);
    expect(stdout.at(-1)).to.equal("audit passed");
    const report = JSON.parse(await readFile(path.join(out, "audit.json"), "utf8")) as AuditReport;
    expect(report.passed).to.equal(true);
    expect(report.checks.filter((check) => !check.passed)).to.deep.equal([]);
    // Every payment the relayer settled was indexed, and its payer signature re-verified from calldata.
    expect(report.indexed.payments).to.equal(final.size);
    const check = (id: string) => report.checks.find((c) => c.id === id);
    expect(check("signatures.payer")?.examined).to.equal(final.size);
    expect(check("payments.unique")?.examined).to.equal(final.size);
  });
});

const paymentSettled = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentSettled" });
