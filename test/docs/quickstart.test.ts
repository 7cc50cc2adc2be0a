import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";

/** Runs `hardhat run <script>` (already built) as a child, resolving with its exit code and output. */
function runScript(script: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [path.resolve("node_modules/hardhat/dist/src/cli.js"), "run", "--no-compile", script],
    { env: { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The README's first quick-start command is `./npmw run demo`: the build (done before the tests) and then the
 * demo script. It must run to its end, reconcile, leave its QR codes and audit reports, and exit 0.
 */
describe("README quick start: the demo", function () {
  this.timeout(240_000);

  it("runs every step, reconciles, and exits 0", async function () {
    const { code, output } = await runScript("scripts/demo.ts", 200_000);
    expect(code, output).to.equal(0);
    expect(output).to.match(/✔ Everything settled as expected and reconciles/);
    expect(output).not.to.include("✘");
    const written = await readdir("out/demo");
    expect(written).to.include.members(["noodle-bar-dynamic.png", "harbour-cafe-dynamic.png", "audit"]);
  });
});
