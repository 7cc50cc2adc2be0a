import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

import { freePort } from "./anvil.ts";

/**
 * A running `hardhat node`: Hardhat's simulated network (EDR) served over JSON-RPC by a separate process, as
 * a developer runs it next to a relayer or an auditor.
 */
export interface HardhatNode {
  url: string;
  stop(): Promise<void>;
}

/** How long the node may take to answer JSON-RPC: it loads the config and every build info first (3–7 s). */
const START_TIMEOUT_MS = 60_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** How much of the node's output is kept for error messages. */
const OUTPUT_TAIL = 8_192;

/** One JSON-RPC call over HTTP; throws unless the node answers with a result. */
async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  if (!response.ok) throw new Error(`${method} answered HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? "error"}`);
  return body.result;
}

/** Sends SIGTERM, then SIGKILL if the child is still running after `timeoutMs`; resolves once it exited. */
async function terminate(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, timeoutMs);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  await exited;
}

/**
 * Starts `hardhat node` (this project's config, run by this Node.js) on a free local port and waits until it
 * answers `eth_chainId`. Connect to it as the `localhost` network with its URL as an override. The node's
 * per-call logging is switched off unless `HARDHAT_NODE_TEST_LOG` is set, in which case its output goes to
 * this process's stderr.
 *
 * @example
 * const node = await startHardhatNode();
 * after(() => node.stop());
 * const connection = await network.create({ network: "localhost", override: { url: node.url } });
 */
export async function startHardhatNode(extraArgs: string[] = []): Promise<HardhatNode> {
  // Another process may take the free port before the node binds it; try a new one then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort(), extraArgs);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(port: number, extraArgs: string[]): Promise<HardhatNode> {
  const url = `http://127.0.0.1:${port}`;
  const passThrough = process.env.HARDHAT_NODE_TEST_LOG !== undefined;
  // `hardhat test` exports its global options as HARDHAT_* variables; a HARDHAT_NETWORK naming an HTTP
  // network would make the node refuse to start, so the node picks its own simulated network.
  const env: NodeJS.ProcessEnv = { ...process.env, HARDHAT_DISABLE_TELEMETRY: "true" };
  delete env.HARDHAT_NETWORK;
  const child = spawn(
    process.execPath,
    [
      path.resolve("node_modules/hardhat/dist/src/cli.js"),
      "node",
      "--port",
      String(port),
      // Inside Docker the node would otherwise listen on 0.0.0.0.
      "--hostname",
      "127.0.0.1",
      ...extraArgs,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    if (passThrough) process.stderr.write(chunk);
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  // If this process exits without calling stop() (an uncaught error, process.exit), take the node with it.
  // Nothing can do that for a SIGKILL of this process.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    await terminate(child, exited, STOP_TIMEOUT_MS);
    process.removeListener("exit", killOnExit);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      const reason = output.trim() || `exit code ${child.exitCode}`;
      const message = `hardhat node did not start on ${url}: ${reason}`;
      throw /EADDRINUSE/.test(output) ? new PortTakenError(message) : new Error(message);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    // The node logs every call it serves (the relayer polls every 50 ms); nobody reads that here.
    if (!passThrough) await rpc(url, "hardhat_setLoggingEnabled", [false]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
