import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import {
  decodeFunctionData,
  encodeFunctionData,
  encodeAbiParameters,
  keccak256,
  numberToHex,
  parseEventLogs,
  stringToHex,
  toEventSelector,
  type Address,
  type Hex,
} from "viem";

import type { AuditReport } from "../../src/audit/auditReport.ts";
import type { CheckId, Evidence } from "../../src/audit/findings.ts";
import type { Signer } from "../../src/deploy/network.ts";
import type { AuditedDeployment } from "../../src/audit/verifyDeployment.ts";
import { runAudit } from "../../src/audit/runAudit.ts";
import { runAuditCommand } from "../../src/cli/audit.ts";
import { writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import { serveOverHttp } from "./rpcProxy.ts";
import {
  decodePaymentBatch,
  encodePaymentBatch,
  fxDomain,
  fxPaymentId,
  fxSettlementAbi,
  fxTypes,
  settlementLedgerAbi,
} from "../../src/protocol/index.ts";
import {
  CNY,
  deploySampleNetwork,
  writeSampleHistory,
  type SampleHistory,
  type SampleNetwork,
} from "./sampleHistory.ts";

const selector = (name: string): Hex => {
  const event = settlementLedgerAbi.find((item) => item.type === "event" && item.name === name);
  if (event?.type !== "event") throw new Error(name);
  return toEventSelector(event);
};

/** A stored log, as the tests read and rewrite it. */
interface LogRow {
  block_number: number;
  log_index: number;
  tx_hash: Hex;
  topic0: Hex;
  topic1: Hex | null;
  data: Hex;
}

describe("qrsettle audit catches tampered event data", function () {
  let sample: SampleNetwork;
  let history: SampleHistory;
  let dir: string;
  let golden: string;
  let deployment: AuditedDeployment;
  let otherChainSignature: Hex;
  let otherChainQuoteSignature: Hex;
  /** Ivy's signature of her payment to the harbour cafe with the pay amount rounded down instead of up. */
  let roundedDownSignature: Hex;

  before(async function () {
    sample = await deploySampleNetwork(await network.create());
    history = await writeSampleHistory(sample);
    dir = await mkdtemp(path.join(tmpdir(), "qrsettle-tamper-"));
    golden = path.join(dir, "golden.sqlite");
    deployment = sample.deployment;
    const { report } = await audit(golden);
    expect(report.passed).to.equal(true);
    const { payer, batch } = history.settledPayment;
    otherChainSignature = (await sample.sign(payer, must(batch[0]).payment, 1)).signature;
    otherChainQuoteSignature = await sample.actors.relayerC.signTypedData({
      account: sample.actors.relayerC.account,
      domain: fxDomain(1, sample.deployment.fx),
      types: fxTypes,
      primaryType: "FxQuote",
      message: history.fx.quote,
    });
    const toHarbourCafe = must(history.fx.payments[1]);
    roundedDownSignature = await history.customers.ivy.signTypedData({
      domain: fxDomain(sample.deployment.chainId, sample.deployment.fx),
      types: fxTypes,
      primaryType: "FxPayment",
      message: { ...toHarbourCafe, payAmount: toHarbourCafe.payAmount - 1n },
    });
  });

  after(async function () {
    await sample.connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function audit(dbFile: string): Promise<{ report: AuditReport }> {
    return runAudit({ client: sample.publicClient, deployment, dbFile, confirmations: 0n, workers: 1 });
  }

  /** Copies the golden store, lets `alter` change it, audits the copy and returns the failed checks. */
  async function tampered(name: string, alter: (db: DatabaseSync) => void): Promise<AuditReport> {
    const file = path.join(dir, `${name}.sqlite`);
    await copyFile(golden, file);
    const db = new DatabaseSync(file);
    alter(db);
    db.close();
    return (await audit(file)).report;
  }

  const failedChecks = (report: AuditReport) =>
    report.checks.filter((check) => !check.passed).map((check) => check.id);

  function logs(db: DatabaseSync, topic0: Hex): LogRow[] {
    return db
      .prepare(
        "SELECT block_number, log_index, tx_hash, topic0, topic1, data FROM logs WHERE topic0 = ? ORDER BY block_number, log_index",
      )
      .all(topic0) as unknown as LogRow[];
  }

  /** Rewrites one stored log's data. */
  function setData(db: DatabaseSync, row: LogRow, data: Hex): void {
    db.prepare("UPDATE logs SET data = ? WHERE block_number = ? AND log_index = ?").run(
      data,
      row.block_number,
      row.log_index,
    );
  }
  const word = (value: bigint): string => value.toString(16).padStart(64, "0");

  /** What a tampering must produce: exactly these failed checks, and this finding among them. */
  interface Expectation {
    failed: CheckId[];
    finding: { check: CheckId; message: string; evidence: Evidence };
  }
  const evidenceOf = (row: LogRow, logIndex = row.log_index): Evidence => ({
    blockNumber: row.block_number,
    transactionHash: row.tx_hash,
    logIndex,
  });
  /** The `BatchSettled` log of the batch in `tx`. */
  const batchLog = (db: DatabaseSync, tx: Hex): LogRow =>
    must(logs(db, selector("BatchSettled")).find((row) => row.tx_hash === tx));

  const cases: Record<string, (db: DatabaseSync) => Expectation> = {
    "a settled payment's log dropped": (db) => {
      const first = must(logs(db, selector("PaymentSettled"))[0]);
      db.prepare("DELETE FROM logs WHERE block_number = ? AND log_index = ?").run(
        first.block_number,
        first.log_index,
      );
      return {
        failed: [
          "batches.root",
          "calldata.decoded",
          "events.consistent",
          "interbank.net",
          "refunds.bounded",
          "state.accounts",
          "supply.deposits",
        ],
        finding: {
          check: "batches.root",
          message: "the batch root is not the Merkle root of its settled payment ids",
          evidence: evidenceOf(batchLog(db, first.tx_hash)),
        },
      };
    },
    "a payment's amount changed": (db) => {
      const second = must(logs(db, selector("PaymentSettled"))[1]);
      const terms = BigInt(`0x${second.data.slice(130)}`);
      const amount = terms & ((1n << 96n) - 1n);
      setData(db, second, `${second.data.slice(0, 130)}${word(terms - amount + amount * 10n)}` as Hex);
      return {
        failed: ["calldata.decoded", "state.accounts"],
        finding: {
          check: "calldata.decoded",
          message: "a batch item's calldata differs from its event",
          evidence: evidenceOf(second),
        },
      };
    },
    "a whole batch replayed in another transaction": (db) => {
      const first = must(logs(db, selector("PaymentSettled"))[0]);
      const copies = db.prepare("SELECT * FROM logs WHERE tx_hash = ? ORDER BY log_index").all(first.tx_hash);
      const checkpoint = must(db.prepare("SELECT block_number FROM checkpoint").get()).block_number as number;
      const replayTx = keccak256("0x1234");
      const insert = db.prepare(
        "INSERT INTO logs (block_number, log_index, block_hash, tx_hash, address, topic0, topic1, topic2, topic3, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const [i, copy] of copies.entries()) {
        const column = (name: string) => copy[name] as string | null;
        insert.run(
          checkpoint,
          1000 + i,
          column("block_hash"),
          replayTx,
          column("address"),
          column("topic0"),
          column("topic1"),
          column("topic2"),
          column("topic3"),
          column("data"),
        );
      }
      db.prepare(
        "INSERT INTO transactions SELECT ?, ?, from_address, to_address, input FROM transactions WHERE hash = ?",
      ).run(replayTx, checkpoint, first.tx_hash);
      return {
        failed: [
          "events.consistent",
          "payments.unique",
          "state.accounts",
          "state.customerLimits",
          "state.positions",
          "supply.deposits",
        ],
        finding: {
          check: "payments.unique",
          message: "a payment id settled twice",
          evidence: { blockNumber: checkpoint, transactionHash: replayTx, logIndex: 1000 },
        },
      };
    },
    "a refund's reserve movement dropped": (db) => {
      const refund = must(logs(db, selector("PaymentRefunded"))[0]);
      db.prepare("DELETE FROM logs WHERE block_number = ? AND log_index = ?").run(
        refund.block_number,
        refund.log_index + 1,
      );
      return {
        failed: ["interbank.net", "state.positions", "supply.deposits"],
        finding: {
          check: "interbank.net",
          message: "a refund or forced move between banks without the reserve movement that settles it",
          evidence: evidenceOf(refund),
        },
      };
    },
    "a refund inflated beyond its payment": (db) => {
      const refund = must(logs(db, selector("PaymentRefunded"))[0]);
      const amount = BigInt(`0x${refund.data.slice(66, 130)}`);
      setData(
        db,
        refund,
        `${refund.data.slice(0, 66)}${word(amount + history.refundedPayment.amount)}${refund.data.slice(130)}` as Hex,
      );
      return {
        failed: [
          "calldata.decoded",
          "events.consistent",
          "interbank.net",
          "refunds.bounded",
          "state.accounts",
          "state.refunds",
          "supply.deposits",
        ],
        finding: {
          check: "refunds.bounded",
          message: "refunds exceed their payment",
          evidence: evidenceOf(refund),
        },
      };
    },
    "a log that is no event of the contracts": (db) => {
      const first = must(logs(db, selector("PaymentSettled"))[0]);
      db.prepare(
        "INSERT INTO logs (block_number, log_index, block_hash, tx_hash, address, topic0, data) VALUES (?, 999, '0x', ?, ?, ?, '0x')",
      ).run(first.block_number, first.tx_hash, deployment.ledger.toLowerCase(), keccak256("0xdead"));
      return {
        failed: ["events.decoded"],
        finding: {
          check: "events.decoded",
          message: "a log of the deployment that is none of its contracts' events",
          evidence: evidenceOf(first, 999),
        },
      };
    },
    "a relayer's removal rewritten as an addition": (db) => {
      const relayerSet = keccak256(stringToHex("RelayerSet(uint16,address,bool)"));
      const removal = must(logs(db, relayerSet).find((row) => BigInt(row.data) === 0n));
      setData(db, removal, `0x${word(1n)}`);
      return {
        failed: ["state.registry"],
        finding: {
          check: "state.registry",
          message: `bank of relayer ${(sample.signers[14] as Signer).account.address.toLowerCase()}: rebuilt from events ${sample.banks.B}, contract 0`,
          evidence: checkpointEvidence(db),
        },
      };
    },
    "a payment's calldata signature made for another chain id": (db) => {
      const first = must(logs(db, selector("PaymentSettled"))[0]);
      const tx = must(db.prepare("SELECT input FROM transactions WHERE hash = ?").get(first.tx_hash));
      const call = decodeFunctionData({ abi: settlementLedgerAbi, data: tx.input as Hex });
      if (call.functionName !== "settlePayments") throw new Error("not a batch");
      const payments = decodePaymentBatch({
        currency: call.args[0],
        payees: call.args[1],
        items: call.args[2],
      });
      payments[0] = { ...must(payments[0]), signature: otherChainSignature };
      const { currency, payees, items } = encodePaymentBatch(payments);
      const input = encodeFunctionData({
        abi: settlementLedgerAbi,
        functionName: "settlePayments",
        args: [currency, payees, items],
      });
      db.prepare("UPDATE transactions SET input = ? WHERE hash = ?").run(input, first.tx_hash);
      return {
        failed: ["signatures.payer"],
        finding: {
          check: "signatures.payer",
          message: "a settled payment's payer signature is not valid under the deployment's EIP-712 domain",
          evidence: evidenceOf(first),
        },
      };
    },
  };

  /** The logs of the cross-currency transaction, in order. */
  const fxLogs = (db: DatabaseSync): LogRow[] =>
    db
      .prepare(
        "SELECT block_number, log_index, tx_hash, topic0, topic1, data FROM logs WHERE tx_hash = ? ORDER BY log_index",
      )
      .all(history.fx.transactionHash) as unknown as LogRow[];
  /** The `CrossCurrencySettled` of the payment to Beta's noodle bar, whose two legs both cross banks. */
  const twoLegPayment = (db: DatabaseSync): LogRow =>
    must(fxLogs(db).find((row) => row.topic0 === selector("CrossCurrencySettled")));

  Object.assign(cases, {
    "a cross-currency payment's reserve leg dropped": (db: DatabaseSync): Expectation => {
      const payment = twoLegPayment(db);
      const payLeg = must(fxLogs(db).find((row) => row.log_index === payment.log_index + 1));
      expect(payLeg.topic0).to.equal(selector("InterbankSettled"));
      db.prepare("DELETE FROM logs WHERE block_number = ? AND log_index = ?").run(
        payLeg.block_number,
        payLeg.log_index,
      );
      return {
        failed: ["fx.legs", "state.positions"],
        finding: {
          check: "fx.legs",
          message:
            "a cross-currency payment's leg between banks without the reserve movement that settles it",
          evidence: evidenceOf(payment),
        },
      };
    },
    "a cross-currency payment's receive leg altered": (db: DatabaseSync): Expectation => {
      const payment = twoLegPayment(db);
      // data: paymentId ‖ qrHash ‖ payTerms ‖ receiveTerms; the receive amount is the low 96 bits.
      const receiveTerms = BigInt(`0x${payment.data.slice(194, 258)}`);
      setData(db, payment, `${payment.data.slice(0, 194)}${word(receiveTerms + 1_00n)}` as Hex);
      return {
        failed: ["fx.legs", "state.accounts", "state.positions", "state.supply", "supply.deposits"],
        finding: {
          check: "fx.legs",
          message: "a cross-currency payment's legs differ from its calldata",
          evidence: evidenceOf(payment),
        },
      };
    },
    "a quote used beyond its maximum (its transaction replayed)": (db: DatabaseSync): Expectation => {
      const replayTx = keccak256("0x5678");
      const checkpoint = must(db.prepare("SELECT block_number FROM checkpoint").get()).block_number as number;
      db.prepare(
        "INSERT INTO logs SELECT ?, 2000 + log_index, block_hash, ?, address, topic0, topic1, topic2, topic3, data FROM logs WHERE tx_hash = ?",
      ).run(checkpoint, replayTx, history.fx.transactionHash);
      db.prepare(
        "INSERT INTO transactions SELECT ?, ?, from_address, to_address, input FROM transactions WHERE hash = ?",
      ).run(replayTx, checkpoint, history.fx.transactionHash);
      // HKD 108.50 + 54.26 used twice: the replayed payment to the harbour cafe takes the quote past 300.00.
      const overusing = must(fxLogs(db).filter((row) => row.topic0 === selector("CrossCurrencySettled"))[1]);
      return {
        failed: [
          "events.consistent",
          "fx.quotes",
          "payments.unique",
          "state.accounts",
          "state.positions",
          "state.quotes",
          "state.supply",
          "supply.deposits",
        ],
        finding: {
          check: "fx.quotes",
          message: "a quote was used beyond its maximum",
          evidence: {
            blockNumber: checkpoint,
            transactionHash: replayTx,
            logIndex: 2000 + overusing.log_index,
          },
        },
      };
    },
    "a cross-currency payment rounded in the payer's favour, consistently in calldata and events": (
      db: DatabaseSync,
    ): Expectation => {
      // The payment to the harbour cafe: HKD 54.26 at 1.0850 costs CNY 50.01 rounded up; make it 50.00.
      const [, payment] = fxLogs(db).filter((row) => row.topic0 === selector("CrossCurrencySettled"));
      const settled = must(payment);
      const leg = must(fxLogs(db).find((row) => row.log_index === settled.log_index + 1));
      const tx = must(
        db.prepare("SELECT input FROM transactions WHERE hash = ?").get(history.fx.transactionHash),
      );
      const call = decodeFunctionData({ abi: fxSettlementAbi, data: tx.input as Hex });
      if (call.functionName !== "settleFxPayments") throw new Error("not settleFxPayments");
      const requests = [...call.args[0]];
      const request = must(requests[1]);
      const roundedDown = { ...request.payment, payAmount: request.payment.payAmount - 1n };
      const domain = fxDomain(sample.deployment.chainId, sample.deployment.fx);
      requests[1] = {
        ...request,
        payment: roundedDown,
        payerSignature: roundedDownSignature,
      };
      const input = encodeFunctionData({
        abi: fxSettlementAbi,
        functionName: "settleFxPayments",
        args: [requests],
      });
      db.prepare("UPDATE transactions SET input = ? WHERE hash = ?").run(input, history.fx.transactionHash);
      const payTerms = BigInt(`0x${settled.data.slice(130, 194)}`);
      setData(
        db,
        settled,
        `0x${fxPaymentId(domain, roundedDown).slice(2)}${settled.data.slice(66, 130)}${word(payTerms - 1n)}${settled.data.slice(194)}`,
      );
      setData(db, leg, `0x${word(BigInt(leg.data) - 1n)}`);
      return {
        // The chain charged the cent the tampered data drops, so the state comparisons see it too.
        failed: ["fx.rate", "state.accounts", "state.positions", "state.supply", "supply.deposits"],
        finding: {
          check: "fx.rate",
          message: "a cross-currency payment's amounts do not follow its quote's rate",
          evidence: evidenceOf(settled),
        },
      };
    },
    "a quote signature made for another chain id": (db: DatabaseSync): Expectation => {
      const tx = must(
        db.prepare("SELECT input FROM transactions WHERE hash = ?").get(history.fx.transactionHash),
      );
      const call = decodeFunctionData({ abi: fxSettlementAbi, data: tx.input as Hex });
      if (call.functionName !== "settleFxPayments") throw new Error("not settleFxPayments");
      const input = encodeFunctionData({
        abi: fxSettlementAbi,
        functionName: "settleFxPayments",
        args: [call.args[0].map((request) => ({ ...request, quoteSignature: otherChainQuoteSignature }))],
      });
      db.prepare("UPDATE transactions SET input = ? WHERE hash = ?").run(input, history.fx.transactionHash);
      return {
        failed: ["signatures.quote"],
        finding: {
          check: "signatures.quote",
          message:
            "a cross-currency payment settled at a quote no relayer key of its provider signed under the FX module's domain",
          evidence: evidenceOf(twoLegPayment(db)),
        },
      };
    },
  });

  /** Evidence of findings about contract state: the checkpoint block. */
  function checkpointEvidence(db: DatabaseSync): Evidence {
    const row = must(db.prepare("SELECT block_number, block_hash FROM checkpoint").get());
    return { blockNumber: row.block_number as number, transactionHash: row.block_hash as Hex };
  }

  for (const [name, alter] of Object.entries(cases)) {
    it(`catches ${name}`, async function () {
      let expectation: Expectation | undefined;
      const report = await tampered(name.replaceAll(/\W+/g, "-"), (db) => {
        expectation = alter(db);
      });
      const { failed, finding } = must(expectation);
      expect(failedChecks(report).sort()).to.deep.equal(failed);
      const { check, message, evidence } = finding;
      const { findings } = must(report.checks.find((c) => c.id === check));
      expect(findings.map((f) => ({ message: f.message, evidence: f.evidence }))).to.deep.include({
        message,
        evidence,
      });
    });
  }

  /** Runs `qrsettle audit` against the in-process chain, served over HTTP. */
  async function runCli(args: string[]): Promise<{ stdout: string; code: number }> {
    const proxy = await serveOverHttp(sample.connection.provider);
    const out: string[] = [];
    try {
      const code = await runAuditCommand(["--rpc", proxy.url, ...args], {
        stdout: (line) => out.push(line),
        stderr: () => undefined,
      });
      return { stdout: out.join("\n"), code };
    } finally {
      await proxy.close();
    }
  }

  it("makes `qrsettle audit` exit 1 and name the failed check", async function () {
    const file = path.join(dir, "cli.sqlite");
    await copyFile(golden, file);
    const db = new DatabaseSync(file);
    must(cases["a payment's amount changed"])(db);
    db.close();
    const deploymentFile = path.join(dir, "deployment.json");
    await writeDeploymentFile(deploymentFile, sample.deployment);
    const { stdout, code } = await runCli([
      "--deployment",
      deploymentFile,
      "--db",
      file,
      "--confirmations",
      "0",
    ]);
    expect(code).to.equal(1);
    expect(stdout).to.match(/✘ calldata\.decoded/);
    expect(stdout).to.match(/audit FAILED/);
  });

  it("agrees with the ledger that a payment signed for another chain id is invalid", async function () {
    const { report } = await audit(golden);
    expect(report.rejections).to.deep.include({ kind: "payment", reason: "InvalidSignature", count: 1 });
    expect(report.checks.find((c) => c.id === "signatures.payer")).to.include({ passed: true, failures: 0 });
  });

  it("shows a forced move cannot change balances without its events", async function () {
    const { carol } = history.customers;
    const receipt = await sample.confirmed(
      sample
        .ledgerAs(sample.actors.enforcer)
        .write.forceTransfer([
          carol.address,
          history.merchants.harbourCafe.address,
          CNY,
          1_00n,
          keccak256(stringToHex("case 42")),
        ]),
    );
    const events = parseEventLogs({ abi: settlementLedgerAbi, logs: receipt.logs }).map((e) => e.eventName);
    expect(events).to.deep.equal(["ForcedTransfer", "InterbankSettled"]);
    const { report } = await audit(golden);
    expect(failedChecks(report)).to.deep.equal([]);
  });

  it("catches a balance changed without any event (a storage edit only a test chain allows)", async function () {
    const { alice } = history.customers;
    const snapshot = (await sample.connection.provider.request({
      method: "evm_snapshot",
      params: [],
    })) as string;
    try {
      const slot = await accountSlot(alice.address, CNY);
      const word = BigInt(
        (await sample.publicClient.getStorageAt({ address: deployment.ledger, slot })) ?? "0x0",
      );
      await sample.connection.provider.request({
        method: "hardhat_setStorageAt",
        params: [deployment.ledger, slot, numberToHex(word + 1n, { size: 32 })],
      });
      await sample.connection.provider.request({ method: "evm_mine", params: [] });
      const { report } = await audit(golden);
      const balance = word & ((1n << 96n) - 1n);
      expect(failedChecks(report)).to.deep.equal(["state.accounts"]);
      expect(must(must(report.checks.find((c) => c.id === "state.accounts")).findings[0]).message).to.equal(
        `account ${alice.address.toLowerCase()} in ${CNY}, balance: rebuilt from events ${balance}, contract ${balance + 1n}`,
      );
    } finally {
      await sample.connection.provider.request({ method: "evm_revert", params: [snapshot] });
    }
  });

  /** The storage slot of `_accounts[currency][account]`, found by its balance since the layout is private. */
  async function accountSlot(account: Address, currency: number): Promise<Hex> {
    const balance = await sample.ledgerAs(sample.actors.spare).read.balanceOf([account, currency]);
    for (let base = 0n; base < 16n; base++) {
      const inner = keccak256(
        encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }], [BigInt(currency), base]),
      );
      const slot = keccak256(
        encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [account, inner]),
      );
      const word = BigInt(
        (await sample.publicClient.getStorageAt({ address: deployment.ledger, slot })) ?? "0x0",
      );
      if (word !== 0n && (word & ((1n << 96n) - 1n)) === balance) return slot;
    }
    throw new Error("account slot not found");
  }
});

/** `value`, which the test's own setup guarantees; fails the test loudly if it is missing. */
function must<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new Error("test setup: expected a value");
  return value;
}
