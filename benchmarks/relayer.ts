/**
 * Relayer end-to-end throughput and latency, ours next to a naive relayer, against the same local Hardhat node
 * (`hardhat node`, automine) in one run:
 *
 *   npx hardhat run benchmarks/relayer.ts     # or: node benchmarks/relayer.ts
 *
 * Both relayers run as their own processes and serve the same API (`POST /v1/payments`, the settled feed
 * `GET /v1/payments?status=settled&since=`). One load generator (this process) posts pre-signed payments with
 * 64 requests in flight and polls the feed every 20 ms. Throughput: payments / (last settled seen − first
 * sent). Latency: from the `202` to the poll that saw it settled (so it includes up to 20 ms of polling).
 *
 * - naive: validates with viem (typed-data recovery), queues in memory, then sends one `settlePayments`
 *   transaction per payment, one after another, reading each receipt — the way a first relayer is written,
 *   but without waste: nonce counted locally, fees read once, gas fixed, no receipt polling (automine).
 * - ours: `src/relayer` as configured below (SQLite store with fsync, batches, 2 hot wallets).
 *
 * Prints a table and writes benchmarks/results/relayer.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, createServer, request as httpRequest } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import path from "node:path";

import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  getContract,
  hashTypedData,
  http,
  keccak256,
  parseEther,
  recoverTypedDataAddress,
  stringToHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import * as secp256k1 from "tiny-secp256k1";

import { deployNetwork, type Signer } from "../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../src/deploy/sample.ts";
import {
  bankRegistryAbi,
  encodePaymentBatch,
  ledgerDomain,
  ledgerTypes,
  settlementLedgerAbi,
  toWirePayment,
  wireSignedPaymentSchema,
  type Payment,
  type WireSignedPayment,
} from "../src/protocol/index.ts";
import { hashApiKey } from "../src/relayer/api/auth.ts";
import type { RelayerConfigInput } from "../src/relayer/config.ts";
import { createTypedDataHasher } from "../src/relayer/validation/typedDataHasher.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const { CNY } = SAMPLE_CURRENCIES;
const API_KEY = "benchmark-key";
const CONCURRENCY = 64;
const POLL_MS = 20;
/** Sizes of the two runs; the environment may shrink them for a quick look. */
const NAIVE_PAYMENTS = Number(process.env.QRSETTLE_BENCH_NAIVE_PAYMENTS ?? 1_500);
const OUR_PAYMENTS = Number(process.env.QRSETTLE_BENCH_PAYMENTS ?? 20_000);
const PAYMENTS_PER_PAYER = 50;
/** Our relayer's settings for the run; everything else is the default. */
const OUR_CONFIG = {
  batch: { maxItems: 500, windowMs: 100, gasLimit: "budget" },
  wallets: { maxInFlight: 2 },
  validation: { recoveryWorkers: 1 },
  chain: { confirmations: 1, pollIntervalMs: 100 },
} as const;

// ── The naive relayer (child process mode) ───────────────────────────────────────────────────────────────

async function runNaiveRelayer(rpcUrl: string, ledger: Address, key: Hex, chainId: number): Promise<void> {
  const domain = ledgerDomain(chainId, ledger);
  const account = privateKeyToAccount(key);
  const client = createPublicClient({ transport: http(rpcUrl), cacheTime: 0 });
  // The fastest one-transaction-per-payment sender: nonce counted locally, fees read once, gas fixed, and the
  // receipt asked for right after the send (automine has mined it by then).
  let nonce = await client.getTransactionCount({ address: account.address });
  const fees = await client.estimateFeesPerGas();
  const queue: { payment: Payment; signature: Hex; id: string }[] = [];
  const settled: string[] = [];
  let working = false;
  const work = async () => {
    if (working) return;
    working = true;
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const { currency, payees, items } = encodePaymentBatch([
        { payment: next.payment, signature: next.signature },
      ]);
      const raw = await account.signTransaction({
        type: "eip1559",
        chainId,
        nonce: nonce++,
        to: ledger,
        data: encodeFunctionData({
          abi: settlementLedgerAbi,
          functionName: "settlePayments",
          args: [currency, payees, items],
        }),
        gas: 300_000n,
        maxFeePerGas: fees.maxFeePerGas * 2n,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
      const hash = await client.request({ method: "eth_sendRawTransaction", params: [raw] });
      const receipt = await client.getTransactionReceipt({ hash });
      if (receipt.status === "success") settled.push(next.id);
    }
    working = false;
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        let status = 200;
        let body: unknown;
        if (request.method === "POST") {
          const parsed = wireSignedPaymentSchema.parse(JSON.parse(Buffer.concat(chunks).toString()));
          const signer = await recoverTypedDataAddress({
            domain,
            types: ledgerTypes,
            primaryType: "Payment",
            message: parsed.payment,
            signature: parsed.signature,
          });
          if (signer !== parsed.payment.payer) {
            status = 422;
            body = { error: "bad signature" };
          } else {
            const id = hashTypedData({
              domain,
              types: ledgerTypes,
              primaryType: "Payment",
              message: parsed.payment,
            });
            queue.push({ payment: parsed.payment, signature: parsed.signature, id });
            void work();
            status = 202;
            body = { id, status: "accepted" };
          }
        } else {
          const since = Number(new URL(request.url ?? "/", "http://x").searchParams.get("since") ?? 0);
          const items = settled.slice(since, since + 5_000).map((id) => ({ id, status: "settled" }));
          body = { items, next: String(since + items.length) };
        }
        const text = JSON.stringify(body);
        response.writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        response.end(text);
      })();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    process.stderr.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
}

// ── Processes ─────────────────────────────────────────────────────────────────────────────────────────────

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Starts a child and resolves with it once a line of its output matches `ready`. */
async function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${args.join(" ")} did not start:\n${output}`));
    }, 60_000);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", (code) => {
      reject(new Error(`${args.join(" ")} exited ${String(code)}:\n${output}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

// ── Load generator ──────────────────────────────────────────────────────────────────────────────────────

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(
  url: string,
  method: "GET" | "POST",
  pathname: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(pathname, url);
    const request = httpRequest(
      target,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** CPU seconds (user + system) a process has used, from /proc (Linux clock ticks of 10 ms). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

interface RunResult {
  relayer: string;
  payments: number;
  accepted: number;
  seconds: number;
  paymentsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  blocks: number;
  /** CPU milliseconds per payment spent by the relayer, the node and the load generator. */
  cpuMsPerPayment: { relayer: number; node: number; loadGenerator: number };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function load(
  name: string,
  url: string,
  bodies: string[],
  client: PublicClient,
  pids: { relayer: number | undefined; node: number | undefined },
): Promise<RunResult> {
  const acceptedAt = new Map<string, number>();
  const settledAt = new Map<string, number>();
  const firstBlock = await client.getBlockNumber({ cacheTime: 0 });
  const cpuBefore = {
    relayer: await cpuSeconds(pids.relayer),
    node: await cpuSeconds(pids.node),
    self: process.cpuUsage(),
  };
  const started = performance.now();
  let next = 0;
  const poster = async () => {
    for (let index = next++; index < bodies.length; index = next++) {
      const { status, text } = await send(url, "POST", "/v1/payments", bodies[index]);
      if (status !== 202) throw new Error(`${name}: payment ${index} answered ${status}: ${text}`);
      acceptedAt.set((JSON.parse(text) as { id: string }).id, performance.now());
    }
  };
  let since = "0";
  let polling = true;
  const poller = async () => {
    while (polling) {
      const { text } = await send(url, "GET", `/v1/payments?status=settled&since=${since}&limit=1000`);
      const page = JSON.parse(text) as { items: { id: string }[]; next: string };
      const now = performance.now();
      for (const item of page.items) if (!settledAt.has(item.id)) settledAt.set(item.id, now);
      since = page.next;
      if (settledAt.size >= bodies.length) break;
      if (page.items.length < 1000) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const polled = poller();
  await Promise.all(Array.from({ length: CONCURRENCY }, poster));
  const deadline = Date.now() + 600_000;
  while (settledAt.size < bodies.length && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  polling = false;
  await polled;
  const self = process.cpuUsage(cpuBefore.self);
  const perPayment = (seconds: number) => Number(((seconds * 1000) / bodies.length).toFixed(3));
  const cpuMsPerPayment = {
    relayer: perPayment((await cpuSeconds(pids.relayer)) - cpuBefore.relayer),
    node: perPayment((await cpuSeconds(pids.node)) - cpuBefore.node),
    loadGenerator: perPayment((self.user + self.system) / 1e6),
  };
  const seconds = (Math.max(...settledAt.values()) - started) / 1000;
  const latencies = [...acceptedAt]
    .map(([id, at]) => (settledAt.get(id) ?? Number.NaN) - at)
    .sort((a, b) => a - b);
  return {
    relayer: name,
    payments: bodies.length,
    accepted: acceptedAt.size,
    seconds: Number(seconds.toFixed(2)),
    paymentsPerSecond: Math.round(settledAt.size / seconds),
    latencyP50Ms: Math.round(percentile(latencies, 50)),
    latencyP99Ms: Math.round(percentile(latencies, 99)),
    blocks: Number((await client.getBlockNumber({ cacheTime: 0 })) - firstBlock),
    cpuMsPerPayment,
  };
}

// ── Setup and the two runs ──────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const progress = (text: string) => process.stderr.write(`${text}\n`);
  const port = await freePort();
  progress(`starting hardhat node on port ${port}`);
  const node = await startChild(
    [path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "node", "--port", String(port)],
    { HARDHAT_DISABLE_TELEMETRY: "true" },
    /Started HTTP/,
  );
  const rpcUrl = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(path.join(tmpdir(), "qrsettle-bench-"));
  try {
    const client = createPublicClient({ transport: http(rpcUrl), cacheTime: 0 }) as PublicClient;
    const chainId = await client.getChainId();
    const chain = {
      id: chainId,
      name: "local",
      nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    };
    const addresses = await createWalletClient({ chain, transport: http(rpcUrl) }).getAddresses();
    const signerFor = (address: Address) =>
      createWalletClient({ account: address, chain, transport: http(rpcUrl) }) as unknown as Signer;
    progress("deploying the sample network");
    const deployment = await deployNetwork(client, signerFor, sampleNetworkSpec(addresses));
    const domain = ledgerDomain(chainId, deployment.ledger);
    const [governor, , , , , , adminA, adminB] = addresses as [Address, ...Address[]];
    const wait = async (hash: Promise<Hex>) => {
      await client.waitForTransactionReceipt({ hash: await hash, pollingInterval: 5 });
    };
    const ledgerAs = (address: Address) =>
      getContract({
        address: deployment.ledger,
        abi: settlementLedgerAbi,
        client: { public: client, wallet: signerFor(address) },
      });
    const registryAs = (address: Address) =>
      getContract({
        address: deployment.registry,
        abi: bankRegistryAbi,
        client: { public: client, wallet: signerFor(address) },
      });
    const merchant = privateKeyToAccount(generatePrivateKey()).address;
    await wait(ledgerAs(adminB as Address).write.openAccount([merchant, CNY]));
    const hotKeys = Array.from({ length: 3 }, () => generatePrivateKey());
    for (const key of hotKeys) {
      const address = privateKeyToAccount(key).address;
      await wait(signerFor(governor).sendTransaction({ to: address, value: parseEther("1000") }));
      await wait(registryAs(adminA as Address).write.setRelayer([address, true]));
    }
    const [naiveKey, ...ourKeys] = hotKeys as [Hex, ...Hex[]];

    progress(`funding payers and signing ${NAIVE_PAYMENTS + OUR_PAYMENTS} payments`);
    const hasher = await createTypedDataHasher(domain);
    /** Signed payments from count / 50 payers, interleaved as independent customers' payments arrive. */
    const signAll = async (count: number): Promise<string[]> => {
      const byPayer: string[][] = [];
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 7_200);
      for (let start = 0; start < count; start += PAYMENTS_PER_PAYER) {
        const key = generatePrivateKey();
        const payer = privateKeyToAccount(key).address;
        await wait(ledgerAs(adminA as Address).write.issueDeposits([payer, CNY, 1_000_000_00n]));
        const bodies: string[] = [];
        byPayer.push(bodies);
        for (let nonce = 0; nonce < Math.min(PAYMENTS_PER_PAYER, count - start); nonce++) {
          const payment: Payment = {
            payer,
            payee: merchant,
            payeeBank: deployment.banks.BETACNBJ as number,
            currency: CNY,
            amount: 100n + BigInt(nonce),
            qrHash: keccak256(stringToHex(`bench ${start} ${nonce}`)),
            nonce: BigInt(nonce),
            deadline,
          };
          const { signature, recoveryId } = secp256k1.signRecoverable(
            hasher.payment(payment).digest,
            Buffer.from(key.slice(2), "hex"),
          );
          const signed: WireSignedPayment = {
            payment: toWirePayment(payment),
            signature: `0x${Buffer.from(signature).toString("hex")}${(27 + recoveryId).toString(16)}`,
          };
          bodies.push(JSON.stringify(signed));
        }
      }
      return Array.from({ length: PAYMENTS_PER_PAYER }, (_, nonce) =>
        byPayer.flatMap((bodies) => bodies[nonce] ?? []),
      ).flat();
    };
    const naiveBodies = await signAll(NAIVE_PAYMENTS);
    const ourBodies = await signAll(OUR_PAYMENTS);

    progress(`naive relayer: ${NAIVE_PAYMENTS} payments`);
    const naive = await startChild(
      [
        path.join(ROOT, "benchmarks/relayer.ts"),
        "--naive",
        rpcUrl,
        deployment.ledger,
        naiveKey,
        String(chainId),
      ],
      {},
      /listening on (http:\/\/\S+)/,
    );
    const naiveResult = await load(
      "naive (1 tx per payment)",
      naive.match[1] as string,
      naiveBodies,
      client,
      {
        relayer: naive.child.pid,
        node: node.child.pid,
      },
    );
    await stopChild(naive.child);
    progress(JSON.stringify(naiveResult));

    progress(`our relayer: ${OUR_PAYMENTS} payments`);
    const config: RelayerConfigInput = {
      instanceId: "benchmark",
      chain: { rpcUrl, chainId, ledger: deployment.ledger, ...OUR_CONFIG.chain },
      store: { kind: "sqlite", sqlitePath: path.join(dir, "relayer.db"), sqliteSynchronous: "full" },
      batch: OUR_CONFIG.batch,
      wallets: OUR_CONFIG.wallets,
      validation: OUR_CONFIG.validation,
      api: {
        port: 0,
        clients: [
          { id: "bench", keySha256: hashApiKey(API_KEY), ratePerSecond: 1_000_000, burst: 1_000_000 },
        ],
      },
      log: { level: "warn" },
    };
    const configFile = path.join(dir, "relayer.json");
    await writeFile(configFile, JSON.stringify(config));
    const ours = await startChild(
      [
        ...(process.env.QRSETTLE_BENCH_PROFILE_DIR === undefined
          ? []
          : ["--cpu-prof", `--cpu-prof-dir=${process.env.QRSETTLE_BENCH_PROFILE_DIR}`]),
        path.join(ROOT, "src/relayer/main.ts"),
        "--config",
        configFile,
      ],
      { QRSETTLE_RELAYER_KEYS: ourKeys.join(",") },
      /listening on (http:\/\/\S+)/,
    );
    const ourResult = await load("ours (batched)", ours.match[1] as string, ourBodies, client, {
      relayer: ours.child.pid,
      node: node.child.pid,
    });
    await stopChild(ours.child);
    progress(JSON.stringify(ourResult));

    const blockMs = (ourResult.seconds * 1000) / Math.max(1, ourResult.blocks);
    const latencyTargetMs = Math.round(OUR_CONFIG.batch.windowMs + 2 * blockMs);
    const speedup = ourResult.paymentsPerSecond / naiveResult.paymentsPerSecond;
    const rows = [naiveResult, ourResult].map((r) => ({
      relayer: r.relayer,
      payments: r.payments,
      "payments/s": r.paymentsPerSecond,
      "p50 ms": r.latencyP50Ms,
      "p99 ms": r.latencyP99Ms,
      blocks: r.blocks,
      "CPU ms/payment: relayer": r.cpuMsPerPayment.relayer,
      node: r.cpuMsPerPayment.node,
      "load gen": r.cpuMsPerPayment.loadGenerator,
    }));
    console.table(rows);
    console.log(`speedup: ${speedup.toFixed(1)}× (target ≥ 10×)`);
    console.log(
      `our p99 ${ourResult.latencyP99Ms} ms vs batch window ${OUR_CONFIG.batch.windowMs} ms + 2 blocks (${Math.round(blockMs)} ms each under load) = ${latencyTargetMs} ms`,
    );
    await mkdir(path.join(ROOT, "benchmarks/results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "benchmarks/results/relayer.json"),
      `${JSON.stringify(
        {
          description:
            "End-to-end payments/s (first POST to last settled seen) and accept-to-settled latency, ours and a naive relayer (one settlePayments transaction per payment, sequential), against one local `hardhat node` (automine), load generator with 64 requests in flight, all on this machine.",
          measuredAt: new Date().toISOString(),
          node: process.version,
          cpu: cpus()[0]?.model ?? "unknown",
          cores: cpus().length,
          ourConfig: OUR_CONFIG,
          results: [naiveResult, ourResult],
          speedup: Number(speedup.toFixed(1)),
          latencyTargetMs,
          meanBlockIntervalMs: Math.round(blockMs),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    agent.destroy();
    await stopChild(node.child);
    await rm(dir, { recursive: true, force: true });
  }
}

const naiveIndex = process.argv.indexOf("--naive");
if (naiveIndex >= 0) {
  const [rpcUrl, ledger, key, chainId] = process.argv.slice(naiveIndex + 1);
  await runNaiveRelayer(rpcUrl as string, ledger as Address, key as Hex, Number(chainId));
} else {
  await main();
}
