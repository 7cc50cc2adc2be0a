import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);

/** A running Anvil node: a second, independent EVM client for tests of anything a bank points at a chain. */
export interface AnvilNode {
  url: string;
  stop(): Promise<void>;
}

/** Path of the Anvil binary shipped by the `@foundry-rs/anvil-linux-amd64` npm package. */
export function anvilBinary(): string {
  return path.join(
    path.dirname(require.resolve("@foundry-rs/anvil-linux-amd64/package.json")),
    "bin",
    "anvil",
  );
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}

/**
 * Starts Anvil on a free local port and waits until it answers JSON-RPC.
 *
 * @example
 * const anvil = await startAnvil();
 * after(() => anvil.stop());
 */
export async function startAnvil(extraArgs: string[] = []): Promise<AnvilNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(anvilBinary(), ["--port", String(port), "--silent", ...extraArgs], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );

  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Anvil did not start on ${url}: ${stderr.trim() || `exit code ${child.exitCode}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
