import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import { network } from "hardhat";
import type { Address, PublicClient } from "viem";

import { configureNetwork } from "../../src/deploy/configure.ts";
import { deployContracts, type Signer } from "../../src/deploy/network.ts";
import { parseNetworkFile, readNetworkFile } from "../../src/deploy/networkFile.ts";
import { QRSettleError } from "../../src/protocol/index.ts";
import { startAnvil } from "../helpers/anvil.ts";

const run = promisify(execFile);

describe("network files", function () {
  it("resolves currencies by code and amounts by exponent, exactly", async function () {
    const spec = await readNetworkFile("networks/local.json");
    expect(spec.currencies).to.deep.equal([
      { code: 156, exponent: 2, enabled: true },
      { code: 344, exponent: 2, enabled: true },
    ]);
    expect(spec.banks[0]?.reserves).to.deep.equal({ 156: 1_000_000_00n });
    expect(spec.banks[0]?.limits).to.deep.equal({ 156: { debitCap: 50_000_00n, maxPayment: 20_000_00n } });
  });

  it("names every problem with its path", async function () {
    const file = JSON.parse(await readFile("networks/local.json", "utf8")) as Record<string, unknown> & {
      banks: Record<string, unknown>[];
      currencies: unknown[];
    };
    file.currencies.push({ code: "XYZ" });
    (file.banks[0] as Record<string, unknown>).bic = "alpha";
    (file.banks[1] as Record<string, unknown>).admin = "0x1234";
    try {
      parseNetworkFile(file, "bad.json");
      expect.fail("accepted a bad network file");
    } catch (error) {
      expect(error).to.be.instanceOf(QRSettleError);
      const { code, details } = error as QRSettleError;
      expect(code).to.equal("NETWORK_FILE_INVALID");
      expect(details).to.include("File: bad.json");
      expect(details.some((d) => d.includes("banks.0.bic"))).to.equal(true);
      expect(details.some((d) => d.includes("banks.1.admin"))).to.equal(true);
    }
    const duplicate = JSON.parse(await readFile("networks/local.json", "utf8")) as {
      banks: { bic: string }[];
    };
    (duplicate.banks[1] as { bic: string }).bic = "ALPHCNSH";
    (duplicate.banks[0] as unknown as { initialReserves: Record<string, string> }).initialReserves = {
      CNY: "1.001",
      JPY: "5",
    };
    expect(() => parseNetworkFile(duplicate, "dup.json"))
      .to.throw(QRSettleError)
      .with.property("details")
      .that.includes.members([
        "Problem 1: banks.0.initialReserves.CNY: Amount has 3 decimals; the currency allows 2.",
        'Problem 2: banks.0.initialReserves.JPY: currency JPY is not in "currencies"',
        "Problem 3: banks.1.bic: ALPHCNSH appears twice",
      ]);
  });
});

describe("configure is idempotent and signs each change with its role's key (EDR)", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let publicClient: PublicClient;
  let signers: Signer[];

  before(async function () {
    connection = await network.create();
    publicClient = await connection.viem.getPublicClient();
    signers = await connection.viem.getWalletClients();
  });
  after(async () => {
    await connection.close();
  });

  it("applies everything once, then nothing; a missing key leaves its changes pending", async function () {
    const spec = await readNetworkFile("networks/local.json");
    const all = (address: Address) =>
      signers.find((s) => s.account.address.toLowerCase() === address.toLowerCase());
    const contracts = await deployContracts(publicClient, all(spec.governor) as Signer, spec);

    const withoutOperator = (address: Address) =>
      address === spec.roles.operator ? undefined : all(address);
    const partial = await configureNetwork(publicClient, withoutOperator, { ...contracts, banks: {} }, spec);
    expect(partial.applied.filter((c) => c.startsWith("grant"))).to.have.length(6);
    expect(partial.pending.map((p) => p.signer)).to.satisfy((signersNeeded: Address[]) =>
      signersNeeded.every((s) => s === spec.roles.operator),
    );
    expect(partial.pending.map((p) => p.change)).to.include('register bank ALPHCNSH "Alpha Bank" as 1');

    const first = await configureNetwork(publicClient, all, partial.deployment, spec);
    expect(first.pending).to.deep.equal([]);
    expect(first.applied).to.include("issue CNY 1000000.00 of reserves to GAMMHKHH");
    expect(first.deployment.banks).to.deep.equal({ ALPHCNSH: 1, BETACNBJ: 2, GAMMHKHH: 3 });

    const second = await configureNetwork(publicClient, all, first.deployment, spec);
    expect(second.applied).to.deep.equal([]);
    expect(second.pending).to.deep.equal([]);
    expect(second.unchanged).to.equal(25);
  });
});

describe("operator tasks against Anvil", function () {
  this.timeout(240_000);

  it("`qrsettle deploy` twice: the second run changes nothing and says so; bad input exits 1", async function () {
    const anvil = await startAnvil(["--accounts", "20"]);
    const dir = await mkdtemp(path.join(tmpdir(), "qrsettle-deploy-"));
    const journals = "ignition/deployments";
    const journalsBefore = new Set(await readdir(journals).catch(() => []));
    const deploymentFile = path.join(dir, "anvil.json");
    const env = { ...process.env, QRSETTLE_ANVIL_URL: anvil.url, HARDHAT_DISABLE_TELEMETRY: "true" };
    const hardhat = (...args: string[]) =>
      run(process.execPath, ["node_modules/hardhat/dist/src/cli.js", "--network", "anvil", ...args], { env });
    try {
      const first = JSON.parse(
        (await hardhat("qrsettle", "deploy", "--deployment", deploymentFile, "--json")).stdout.trim(),
      ) as { deployed: boolean; applied: string[]; banks: Record<string, number> };
      expect(first.deployed).to.equal(true);
      expect(first.applied).to.have.length(21);
      expect(first.banks).to.deep.equal({ ALPHCNSH: 1, BETACNBJ: 2, GAMMHKHH: 3 });

      const second = await hardhat("qrsettle", "deploy", "--deployment", deploymentFile);
      expect(second.stdout).to.include("Nothing to change: the chain already matches the network file.");

      const refused = await hardhat(
        "qrsettle",
        "reserves",
        "redeem",
        "--bank",
        "ALPHCNSH",
        "--currency",
        "CNY",
        "--amount",
        "2000000.00",
        "--deployment",
        deploymentFile,
      ).then(
        () => undefined,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(refused?.code).to.equal(1);
      expect(refused?.stderr).to.include("InsufficientReserves");
    } finally {
      await anvil.stop();
      await rm(dir, { recursive: true, force: true });
      // Ignition's journal of this throwaway chain.
      for (const entry of await readdir(journals).catch(() => [])) {
        if (!journalsBefore.has(entry))
          await rm(path.join(journals, entry), { recursive: true, force: true });
      }
    }
  });
});
