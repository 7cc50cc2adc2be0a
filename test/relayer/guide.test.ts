import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import { privateKeyToAddress } from "viem/accounts";

import { runRelayerCommand } from "../../src/cli/relayer.ts";
import { parseRelayerConfig } from "../../src/relayer/config.ts";
import { startAnvil } from "../helpers/anvil.ts";
import { deployTestNetwork, relayerKeys } from "./helpers/network.ts";
import { tempDir } from "./helpers/relayer.ts";

const GUIDE = "docs/relayer.md";
const PREFIX = "./npmw run --silent qrsettle -- relayer ";

/** Runs `qrsettle relayer <argv>` in this process, in `cwd`, with `env` added; returns exit code and output. */
async function runHere(argv: string[], cwd: string, env: Record<string, string>) {
  let stdout = "";
  let stderr = "";
  const saved = { ...process.env };
  const savedCwd = process.cwd();
  Object.assign(process.env, env);
  process.chdir(cwd);
  try {
    const code = await runRelayerCommand(argv, {
      stdout: (text) => (stdout += `${text}\n`),
      stderr: (text) => (stderr += `${text}\n`),
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(savedCwd);
    for (const key of Object.keys(process.env)) if (!(key in saved)) Reflect.deleteProperty(process.env, key);
    Object.assign(process.env, saved);
  }
}

/** `relayer start` as its own process (it runs until a signal): waits for its API, then stops it with SIGTERM. */
async function startAndStop(argv: string[], cwd: string, env: Record<string, string>): Promise<string> {
  const loader =
    (process.features as { typescript?: string }).typescript === undefined ? ["--import", "tsx"] : [];
  const child = spawn(process.execPath, [...loader, path.resolve("src/relayer/main.ts"), ...argv.slice(1)], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let ready = 0;
  while (ready !== 200 && Date.now() < deadline) {
    ready = (await fetch(`${url}/readyz`)).status;
    if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(ready, output).to.equal(200);
  child.kill("SIGTERM");
  expect(await exited, output).to.equal(0);
  return output;
}

describe("docs/relayer.md: examples validate, commands run, the reference is current", function () {
  let guide: string;

  before(async function () {
    guide = await readFile(GUIDE, "utf8");
  });

  const jsonExamples = () => [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");

  it("has a generated reference equal to `qrsettle relayer docs`", async function () {
    const match = /<!-- prettier-ignore-start -->\n([\s\S]*)<!-- prettier-ignore-end -->/.exec(guide);
    const { stdout } = await runHere(["docs"], process.cwd(), {});
    expect(match?.[1], "run `qrsettle relayer docs` and paste its output between the markers").to.equal(
      stdout,
    );
  });

  it("shows only configurations the relayer accepts", function () {
    const examples = jsonExamples();
    expect(examples.length).to.be.at.least(3);
    for (const example of examples) parseRelayerConfig(JSON.parse(example));
  });

  it("runs every runnable command, as written, against a fresh Anvil node", async function () {
    const commands = [...guide.matchAll(/<!-- runnable -->\n\n```sh\n([\s\S]*?)```/g)].flatMap((match) =>
      (match[1] ?? "").split("\n").filter((line) => line.trim() !== ""),
    );
    expect(commands.length).to.be.at.least(7);
    const anvil = await startAnvil(["--accounts", "20"]);
    const temp = await tempDir();
    const net = await deployTestNetwork({ network: "anvil", url: anvil.url }).catch(
      async (error: unknown) => {
        await anvil.stop();
        throw error;
      },
    );
    try {
      const [key] = await relayerKeys(net, 1);
      await writeFile(path.join(temp.dir, "relayer.json"), jsonExamples()[0] ?? "");
      // The guide's file, with this chain set by environment variables, as the guide says one may.
      const env = {
        QRSETTLE_RELAYER_KEY: key as string,
        QRSETTLE_KEYSTORE_PASSWORD: "correct horse battery staple",
        QRSETTLE_RELAYER_CHAIN_RPC_URL: anvil.url,
        QRSETTLE_RELAYER_CHAIN_CHAIN_ID: String(net.deployment.chainId),
        QRSETTLE_RELAYER_CHAIN_LEDGER: net.deployment.ledger,
        QRSETTLE_RELAYER_CHAIN_FX: net.deployment.fx,
        QRSETTLE_RELAYER_CHAIN_POLL_INTERVAL_MS: "50",
        QRSETTLE_RELAYER_API_PORT: "0",
        QRSETTLE_RELAYER_LOG_LEVEL: "warn",
        WALLET_APP_WEBHOOK_SECRET: "whsec-test",
      };
      for (const command of commands) {
        expect(command.startsWith(PREFIX), command).to.equal(true);
        const argv = command.slice(PREFIX.length).split(" ");
        if (argv[0] === "start") {
          await startAndStop(argv, temp.dir, env);
          continue;
        }
        const { code, stdout, stderr } = await runHere(argv, temp.dir, env);
        expect(code, `${command}\n${stderr}`).to.equal(0);
        if (argv[0] === "keystore")
          expect(stdout.trim().toLowerCase()).to.include(
            privateKeyToAddress(key as `0x${string}`)
              .slice(2)
              .toLowerCase(),
          );
        if (argv[0] === "check-config") {
          const shown = JSON.parse(stdout) as { chain: { ledger: string }; fx: { providers: unknown } };
          const example = JSON.parse(jsonExamples()[0] ?? "") as { fx: { providers: unknown } };
          expect(shown.chain.ledger).to.equal(net.deployment.ledger, "the environment overrides the file");
          expect(shown.fx.providers).to.deep.equal(example.fx.providers, "the file's other keys stay");
        }
        if (argv[0] === "status") {
          const status = JSON.parse(stdout) as { wallets: { address: string }[] };
          expect(status.wallets.map((wallet) => wallet.address.toLowerCase())).to.deep.equal([
            privateKeyToAddress(key as `0x${string}`).toLowerCase(),
          ]);
        }
      }
    } finally {
      await net.close();
      await anvil.stop();
      await temp.cleanup();
    }
  });
});
