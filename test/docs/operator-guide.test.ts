import { exec } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";

import { expect } from "chai";

import { startAnvil } from "../helpers/anvil.ts";

const shell = promisify(exec);

/** The shell commands of the blocks docs/operator.md marks `<!-- runnable -->`, in order. */
async function runnableCommands(file: string): Promise<string[]> {
  const markdown = await readFile(file, "utf8");
  const commands: string[] = [];
  for (const [, block] of markdown.matchAll(/<!-- runnable -->\s*```sh\n([\s\S]*?)```/g)) {
    commands.push(...(block ?? "").split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#")));
  }
  return commands;
}

describe("docs/operator.md: every runnable command works, as written, on a fresh Anvil node", function () {
  this.timeout(600_000);

  it("runs the guide from deploy to controls", async function () {
    const commands = await runnableCommands("docs/operator.md");
    expect(commands.length).to.be.greaterThan(15);
    const anvil = await startAnvil(["--accounts", "20"]);
    const journalsBefore = new Set(await readdir("ignition/deployments").catch(() => []));
    const env = { ...process.env, QRSETTLE_ANVIL_URL: anvil.url, HARDHAT_DISABLE_TELEMETRY: "true" };
    try {
      for (const [index, command] of commands.entries()) {
        // The guide talks to `npx hardhat node` on localhost; here the same commands talk to Anvil.
        const onAnvil = command.replace("--network localhost", "--network anvil");
        const { stdout } = await shell(onAnvil, { env }).catch((error: unknown) => {
          const { stderr, stdout: out } = error as { stderr: string; stdout: string };
          throw new Error(`"${command}" failed:\n${stderr}\n${out}`);
        });
        // The guide deploys twice to show that the second run changes nothing.
        if (index === 1)
          expect(stdout).to.include("Nothing to change: the chain already matches the network file.");
      }
    } finally {
      await anvil.stop();
      await rm("deployments/anvil.json", { force: true });
      await rm("out/delta-cafe.png", { force: true });
      await rm("out/audit", { recursive: true, force: true });
      for (const entry of await readdir("ignition/deployments").catch(() => [])) {
        if (!journalsBefore.has(entry))
          await rm(`ignition/deployments/${entry}`, { recursive: true, force: true });
      }
    }
  });
});
