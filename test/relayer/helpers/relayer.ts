/** Starting relayers for tests: in this process (for EDR and fast tests) or as a child process. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { custom, type Hex, type Transport } from "viem";

import { hashApiKey } from "../../../src/relayer/api/auth.ts";
import {
  parseRelayerConfig,
  type RelayerConfig,
  type RelayerConfigInput,
} from "../../../src/relayer/config.ts";
import { createLogger } from "../../../src/relayer/logger.ts";
import { startRelayer, type Relayer } from "../../../src/relayer/relayer.ts";
import type { TestNetwork } from "./network.ts";

/** The API key every test client uses. */
export const API_KEY = "test-key-0123456789";

/** Deep-merges `overrides` into `base` (objects only; arrays and values replace). */
function merge(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = result[key];
    result[key] =
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === "object" &&
      current !== null
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return result;
}

/** A temporary directory removed by `cleanup`. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "qrsettle-relayer-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A relayer configuration for `net` with fast timings, a SQLite file in `dir` and one API client.
 *
 * @example
 * const config = testConfig(net, dir, rpcUrl, { batch: { maxItems: 50 } });
 */
export function testConfig(
  net: TestNetwork,
  dir: string,
  rpcUrl: string,
  overrides: RelayerConfigInput | Record<string, unknown> = {},
): RelayerConfig {
  const base: RelayerConfigInput = {
    instanceId: "test",
    chain: {
      rpcUrl,
      chainId: net.deployment.chainId,
      ledger: net.deployment.ledger,
      confirmations: 1,
      pollIntervalMs: 50,
    },
    store: { kind: "sqlite", sqlitePath: path.join(dir, "relayer.db"), sqliteSynchronous: "normal" },
    batch: { windowMs: 100 },
    api: {
      port: 0,
      clients: [{ id: "wallet-app", keySha256: hashApiKey(API_KEY), ratePerSecond: 100_000, burst: 100_000 }],
    },
    validation: { minDeadlineSeconds: 5 },
    log: { level: "silent" },
    shutdown: { drainTimeoutMs: 10_000 },
  };
  return parseRelayerConfig(merge(base, overrides));
}

/**
 * Starts a relayer in this process. On the in-process EDR network pass `transport: custom(net.connection.provider)`.
 *
 * @example
 * const relayer = await startTestRelayer(config, keys, { transport: edrTransport(net) });
 */
export async function startTestRelayer(
  config: RelayerConfig,
  keys: Hex[],
  options: { transport?: Transport; env?: Record<string, string> } = {},
): Promise<Relayer> {
  const level = process.env.RELAYER_TEST_LOG ?? config.log.level;
  return startRelayer(config, {
    env: { ...options.env, QRSETTLE_RELAYER_KEYS: keys.join(",") },
    logger: createLogger(level, { instance: config.instanceId }),
    ...(options.transport === undefined ? {} : { transport: options.transport }),
  });
}

/** One JSON-RPC request as the relayer makes it. */
export type RpcRequest = Parameters<TestNetwork["connection"]["provider"]["request"]>[0];

/**
 * The in-process EDR network as a viem transport; `observe`, if given, sees each request before the node does
 * (to count or record what the relayer asks).
 */
export function edrTransport(net: TestNetwork, observe?: (request: RpcRequest) => void): Transport {
  const { provider } = net.connection;
  if (observe === undefined) return custom(provider);
  return custom({
    request(request: RpcRequest) {
      observe(request);
      return provider.request(request);
    },
  });
}

/** A relayer running as a child process (`node src/relayer/main.ts`). */
export interface RelayerProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stderr and stdout (JSON log lines). */
  output(): string;
  /** Resolves with the exit code (or the signal) when it exits. */
  exited: Promise<number | NodeJS.Signals>;
}

/**
 * Writes `config` to a file and runs the relayer as a child process, resolving once its API answers.
 *
 * @example
 * const relayer = await spawnRelayer(config, keys, dir);
 * relayer.child.kill("SIGKILL");
 */
export async function spawnRelayer(
  config: RelayerConfig,
  keys: Hex[],
  dir: string,
  name = "relayer",
): Promise<RelayerProcess> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  // Node 22.18+ runs TypeScript itself; older ones need tsx's loader.
  const loader =
    (process.features as { typescript?: string }).typescript === undefined ? ["--import", "tsx"] : [];
  const child = spawn(process.execPath, [...loader, path.resolve("src/relayer/main.ts"), "--config", file], {
    env: { ...process.env, QRSETTLE_RELAYER_KEYS: keys.join(",") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve(code ?? (signal as NodeJS.Signals));
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`relayer did not start:\n${output}`));
    }, 30_000);
    const look = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stderr.on("data", look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relayer exited (${String(code)}) before starting:\n${output}`));
    });
  });
  return { url, child, output: () => output, exited };
}
