import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import type { Address } from "viem";

import { writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import { encodeQrSettleRequest } from "../../src/qr/index.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import {
  CNY,
  confirm,
  deployTestNetwork,
  ledgerAs,
  relayerKeys,
  type TestNetwork,
} from "../relayer/helpers/network.ts";
import { API_KEY, testConfig } from "../relayer/helpers/relayer.ts";

const run = promisify(execFile);
/** Hardhat's CLI, run with this Node directly so that signals reach it (npx would stand in between). */
const HARDHAT = path.resolve("node_modules/hardhat/dist/src/cli.js");

/**
 * The payer's and the operator's tasks as a newcomer runs them, against Anvil: `qrsettle relayer start` runs a
 * bank's relayer, `qrsettle pay` pays a QR code through it, `qrsettle payment` shows the result.
 */
describe("tasks: qrsettle relayer start, pay and payment on Anvil", function () {
  this.timeout(180_000);
  let anvil: AnvilNode;
  let net: TestNetwork;
  let dir: string;
  let relayer: ChildProcess;
  let relayerUrl: string;
  let env: NodeJS.ProcessEnv;
  let deploymentFile: string;
  let payer: Address;

  const hardhat = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [HARDHAT, ...args], { env: { ...env, ...extraEnv } }).then(
      (done) => ({ code: 0, ...done }),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    net = await deployTestNetwork({ network: "anvil", url: anvil.url });
    dir = await mkdtemp(path.join(tmpdir(), "qrsettle-pay-task-"));
    deploymentFile = path.join(dir, "deployment.json");
    await writeDeploymentFile(deploymentFile, net.deployment);
    // One of the network's own accounts pays, as a payer whose key is in Hardhat's keystore would.
    payer = (net.signers[15] ?? net.signers[0])?.account.address as Address;
    await confirm(net, ledgerAs(net, net.adminA).write.issueDeposits([payer, CNY, 500_00n]));
    env = { ...process.env, QRSETTLE_ANVIL_URL: anvil.url, HARDHAT_DISABLE_TELEMETRY: "true" };

    const keys = await relayerKeys(net, 1);
    const configFile = path.join(dir, "relayer.json");
    await writeFile(configFile, JSON.stringify(testConfig(net, dir, anvil.url)));
    relayer = spawn(
      process.execPath,
      [HARDHAT, "qrsettle", "relayer", "start", "--relayer-config", configFile],
      {
        env: { ...env, QRSETTLE_RELAYER_KEYS: keys.join(",") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    relayerUrl = await new Promise<string>((resolve, reject) => {
      let output = "";
      relayer.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
        if (url !== undefined) resolve(url);
      });
      relayer.once("exit", (code) => {
        reject(new Error(`the relayer task exited with ${code}:\n${output}`));
      });
    });
  });

  after(async function () {
    if (relayer.exitCode === null) relayer.kill("SIGKILL");
    await net.close();
    await anvil.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("pays a merchant's QR code and shows the settled payment", async function () {
    const payload = encodeQrSettleRequest({
      chainId: BigInt(net.deployment.chainId),
      ledger: net.deployment.ledger.toLowerCase() as Address,
      payeeBank: net.bankB,
      payee: net.merchant.toLowerCase() as Address,
      currency: CNY,
      merchantName: "NOODLE BAR",
      merchantCity: "BEIJING",
      countryCode: "CN",
      mcc: "5812",
      pointOfInitiation: "static",
    });
    const common = ["--network", "anvil", "--deployment", deploymentFile, "--relayer", relayerUrl];
    const paid = await hardhat(
      ["qrsettle", "pay", ...common, "--payload", payload, "--amount", "42.50", "--from", payer, "--json"],
      { QRSETTLE_API_KEY: API_KEY },
    );
    const result = JSON.parse(paid.stdout) as { id: string; status: string; payment: { amount: string } };
    expect(result.status).to.equal("settled");
    expect(result.payment.amount).to.equal("4250");
    expect(await ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY])).to.equal(42_50n);

    const shown = await hardhat(
      ["qrsettle", "payment", "--relayer", relayerUrl, "--id", result.id, "--json"],
      { QRSETTLE_API_KEY: API_KEY },
    );
    expect(JSON.parse(shown.stdout)).to.include({ id: result.id, status: "settled" });
  });

  it("fails with the relayer's code, exit 1 and nothing settled, when the API key is wrong", async function () {
    const refused = await hardhat(
      ["qrsettle", "payment", "--relayer", relayerUrl, "--id", `0x${"ab".repeat(32)}`],
      { QRSETTLE_API_KEY: "not-the-key" },
    );
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("UNAUTHORIZED");
  });

  it("stops the relayer on SIGTERM after draining, with exit code 0", async function () {
    const exited = new Promise<number | null>((resolve) => relayer.once("exit", resolve));
    relayer.kill("SIGTERM");
    expect(await exited).to.equal(0);
  });
});
