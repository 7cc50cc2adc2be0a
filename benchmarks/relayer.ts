/**
 * Relayer end-to-end throughput and latency, ours next to a naive relayer, against the same local Hardhat node
 * (`hardhat node`, automine, then interval mining) in one run:
 *
 *   npx hardhat run benchmarks/relayer.ts     # or: node benchmarks/relayer.ts
 *
 * Both relayers run as their own processes and serve the same API (`POST /v1/payments`, the settled feed
 * `GET /v1/payments?status=settled&since=`). One load generator (this process) posts pre-signed payments with
 * 64 requests in flight and polls the feed every 20 ms. Throughput: payments / (last settled seen − first
 * sent). Latency: from the `202` to the poll that saw it settled (so it includes up to 20 ms of polling); "p99
 * from POST" starts at the request instead, so it also counts any wait for room in a full queue (backpressure,
 * `api.maxQueued`) before the `202`. Every stream is a steady flow of customers who pay 50 times each, about 100
 * of them paying at any moment: one payment in 50 is its payer's first, evenly through the stream, so the
 * account reads intake makes for a payer it has not seen fall throughout a run (`streamLayout`).
 *
 * - naive: validates with viem (typed-data recovery), queues in memory, then sends one `settlePayments`
 *   transaction per payment without waste: nonce counted locally, fees read once, gas fixed, no receipt
 *   polling (automine). Two of them: `sequential` reads each receipt before the next send (the way a first
 *   relayer is written); `pipelined` signs the next transaction while the previous send is in flight and reads
 *   receipts alongside. The speedup is measured against whichever of the two was faster in the run.
 * - ours: `src/relayer` as configured below (SQLite store with fsync, batches, 2 hot wallets), three times:
 *   saturated like the naive ones (its throughput); posted to at a steady 10× the faster naive relayer's rate,
 *   open loop, the stream's first 3,000 payments unmeasured as a warm-up (its latency at the throughput target;
 *   under saturation, latency is only how long the queue has grown); and the same after the node switches to a
 *   block every second (QRSETTLE_BENCH_BLOCK_MS; 0 skips that run), as a chain with a block time mines.
 * - cross-currency (CNY payers of Alpha, an HKD merchant of Beta, quotes of Gamma): the faster naive mode with one
 *   `settleFxPayments` transaction per payment, and ours saturated, both under automine.
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
  hexToBytes,
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
  fxDomain,
  fxSettlementAbi,
  fxTypes,
  ledgerDomain,
  ledgerTypes,
  payAmountFor,
  rateFromDecimal,
  settlementLedgerAbi,
  toWireFxPayment,
  toWireFxQuote,
  toWirePayment,
  wireSignedFxPaymentSchema,
  wireSignedPaymentSchema,
  type FxPayment,
  type FxQuote,
  type Payment,
  type WireSignedFxPayment,
  type WireSignedPayment,
} from "../src/protocol/index.ts";
import { hashApiKey } from "../src/relayer/api/auth.ts";
import type { RelayerConfigInput } from "../src/relayer/config.ts";
import { createFxTypedDataHasher, createTypedDataHasher } from "../src/relayer/validation/typedDataHasher.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
/** With QRSETTLE_BENCH_PROFILE_DIR set, every relayer process writes a CPU profile there. */
const profileFlags =
  process.env.QRSETTLE_BENCH_PROFILE_DIR === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${process.env.QRSETTLE_BENCH_PROFILE_DIR}`];
const { CNY, HKD } = SAMPLE_CURRENCIES;
const API_KEY = "benchmark-key";
const CONCURRENCY = 64;
const POLL_MS = 20;
/** Sizes of the two runs; the environment may shrink them for a quick look. */
const NAIVE_PAYMENTS = Number(process.env.QRSETTLE_BENCH_NAIVE_PAYMENTS ?? 1_500);
const OUR_PAYMENTS = Number(process.env.QRSETTLE_BENCH_PAYMENTS ?? 20_000);
/** Payments of the steady run, posted at 10× the faster naive relayer's rate: the latency at the target throughput. */
const STEADY_PAYMENTS = Number(process.env.QRSETTLE_BENCH_STEADY_PAYMENTS ?? 20_000);
/** A fixed rate for the steady runs instead of 10× naive, to compare changes at one load (results not written). */
const STEADY_RATE = process.env.QRSETTLE_BENCH_STEADY_RATE;
/** Payments posted, at the same rate and not measured, before the steady run's. */
const WARMUP_PAYMENTS = 3_000;
/**
 * Another checkout of the project (its root, with `src/` and `node_modules`), e.g. `git archive HEAD src
 * package.json` unpacked next to a link to node_modules: its relayer runs first with the same configuration
 * and payment count, for a before/after comparison in one run. Not written to the results file.
 */
const BASELINE_ROOT = process.env.QRSETTLE_BENCH_BASELINE_ROOT;
/** With QRSETTLE_BENCH_TRACE=<prefix>, each run writes `[accepted, settled]` ms of every payment to `<prefix>.<run>.json`. */
const TRACE_PREFIX = process.env.QRSETTLE_BENCH_TRACE;
const PAYMENTS_PER_PAYER = 50;
/** Sizes of the cross-currency runs, the naive relayer's and ours (saturated). */
const NAIVE_FX_PAYMENTS = Number(process.env.QRSETTLE_BENCH_NAIVE_FX_PAYMENTS ?? 1_000);
const FX_PAYMENTS = Number(process.env.QRSETTLE_BENCH_FX_PAYMENTS ?? 10_000);
/** Payers paying at once: each pays every this many payments of the stream. */
const PAYERS_AT_ONCE = 100;

/**
 * The order of a stream of `count` payments from customers who pay PAYMENTS_PER_PAYER times each, as a steady
 * flow of them arrives: PAYERS_AT_ONCE lanes, each a succession of payers, their changes staggered across the
 * lanes, so that throughout the stream one payment in PAYMENTS_PER_PAYER is a payer's first (the one whose
 * account intake has to read from the chain). Ordering every payer's first payment before anyone's second
 * would put all those reads in the stream's first moments. The first payer of each lane pays fewer times.
 *
 * @returns `payments`: how many payments each payer makes, in the order payers are created; `order`: which
 * payer's which payment (its nonce) comes at each position of the stream.
 */
function streamLayout(count: number): {
  payments: number[];
  order: { payer: number; nonce: number }[];
} {
  const lanes = Math.max(1, Math.min(PAYERS_AT_ONCE, Math.ceil(count / PAYMENTS_PER_PAYER)));
  const payments: number[] = [];
  const byLane = Array.from({ length: lanes }, (_, lane) => {
    const phase = Math.floor((lane * PAYMENTS_PER_PAYER) / lanes);
    return Array.from({ length: Math.ceil((count - lane) / lanes) }, (_, slot) => {
      if (slot === 0 || (slot + phase) % PAYMENTS_PER_PAYER === 0) payments.push(0);
      const payer = payments.length - 1;
      return { payer, nonce: (payments[payer] as number)++ };
    });
  });
  const order = Array.from(
    { length: count },
    (_, position) =>
      byLane[position % lanes]?.[Math.floor(position / lanes)] as { payer: number; nonce: number },
  );
  return { payments, order };
}
/** About how many cross-currency payments share one quote (whole payers share one). */
const PAYMENTS_PER_QUOTE = 1_000;
/**
 * Our relayer runs once more after the node switches from automine to a block every `BLOCK_MS` (0: no such
 * run), as a chain with a block time mines (e.g. Besu QBFT): there "2 blocks" in the latency target is the
 * chain's (their mean interval in the run: a node that takes long to mine a block starts the next one late),
 * where under automine a block is one of our own batches. It runs open loop, like the steady run, at 10× the
 * naive relayer's rate or at a quarter of what the chain's blocks can hold, whichever is lower: the node shares
 * two cores with the relayer and the load generator, and offered half the capacity it mined 1 s blocks every
 * 1.3 s here, so that any relayer's queue grows without end.
 */
const BLOCK_MS = Number(process.env.QRSETTLE_BENCH_BLOCK_MS ?? 1_000);
/** How much later than set blocks come when the node is busy (1 s blocks every 1.2–1.5 s on these machines). */
const LATE_BLOCKS = 1.25;
/** The share of the chain's gas per second the block-time run offers at most. */
const CHAIN_LOAD = 0.25;
/** Our relayer's settings for the run; everything else is the default. */
const OUR_CONFIG = {
  api: { maxQueued: 500 },
  batch: { maxItems: 500, windowMs: 100, gasLimit: "budget" },
  wallets: { maxInFlight: 2 },
  validation: { recoveryWorkers: 0 },
  chain: { confirmations: 1, pollIntervalMs: 100 },
} as const;

// ── The naive relayer (child process mode) ───────────────────────────────────────────────────────────────

/**
 * The two naive relayers: both send one transaction per payment with the nonce counted locally, fees read once
 * and gas fixed. `sequential` sends a payment's transaction and reads its receipt before starting the next.
 * `pipelined` signs the next transaction while the previous send is in flight, sends strictly in nonce order
 * (automine refuses a nonce that arrives early) and reads receipts alongside — what a careful one-transaction-
 * per-payment relayer does. Our speedup is measured against the faster of the two in each run.
 */
type NaiveMode = "sequential" | "pipelined";

/** What the naive relayer settles: same-currency payments (the ledger) or cross-currency ones (the FX contract). */
type RequestKind = "payment" | "fx";

/** The API path of each kind of request, for posts and for the settled feed. */
const ROUTES = { payment: "/v1/payments", fx: "/v1/fx-payments" } as const;

/** A request the naive relayer accepted: its id and the calldata of its own transaction. */
interface NaiveRequest {
  id: Hex;
  data: Hex;
}

/**
 * Checks a posted body the way the naive relayer does (schema, and that the signature recovers the payer; the
 * contract checks the rest) and encodes its one-request transaction; undefined for a bad signature.
 */
async function naiveRequest(
  kind: RequestKind,
  chainId: number,
  target: Address,
  body: unknown,
): Promise<NaiveRequest | undefined> {
  if (kind === "payment") {
    const domain = ledgerDomain(chainId, target);
    const { payment, signature } = wireSignedPaymentSchema.parse(body);
    const typed = { domain, types: ledgerTypes, primaryType: "Payment", message: payment } as const;
    if ((await recoverTypedDataAddress({ ...typed, signature })) !== payment.payer) return undefined;
    const { currency, payees, items } = encodePaymentBatch([{ payment, signature }]);
    return {
      id: hashTypedData(typed),
      data: encodeFunctionData({
        abi: settlementLedgerAbi,
        functionName: "settlePayments",
        args: [currency, payees, items],
      }),
    };
  }
  const domain = fxDomain(chainId, target);
  const { payment, signature, quote, quoteSignature } = wireSignedFxPaymentSchema.parse(body);
  const typed = { domain, types: fxTypes, primaryType: "FxPayment", message: payment } as const;
  if ((await recoverTypedDataAddress({ ...typed, signature })) !== payment.payer) return undefined;
  return {
    id: hashTypedData(typed),
    data: encodeFunctionData({
      abi: fxSettlementAbi,
      functionName: "settleFxPayments",
      args: [[{ payment, payerSignature: signature, quote, quoteSignature }]],
    }),
  };
}

async function runNaiveRelayer(
  mode: NaiveMode,
  kind: RequestKind,
  rpcUrl: string,
  target: Address,
  key: Hex,
  chainId: number,
): Promise<void> {
  const account = privateKeyToAccount(key);
  const client = createPublicClient({ transport: http(rpcUrl), cacheTime: 0 });
  let nonce = await client.getTransactionCount({ address: account.address });
  const fees = await client.estimateFeesPerGas();
  const queue: NaiveRequest[] = [];
  const settled: string[] = [];
  const sign = (next: NaiveRequest) =>
    account.signTransaction({
      type: "eip1559",
      chainId,
      nonce: nonce++,
      to: target,
      data: next.data,
      gas: 400_000n,
      maxFeePerGas: fees.maxFeePerGas * 2n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
  const settle = async (hash: Hex, id: string) => {
    const receipt = await client.getTransactionReceipt({ hash });
    if (receipt.status === "success") settled.push(id);
  };
  let working = false;
  const work = async () => {
    if (working) return;
    working = true;
    /** The previous send; the next waits for it, so the node sees nonces in order. */
    let sent: Promise<unknown> = Promise.resolve();
    // Requests that arrive while the last send is awaited find `working` set: look again before unsetting it.
    while (queue.length > 0) {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const raw = await sign(next);
        const { id } = next;
        if (mode === "sequential") {
          const hash = await client.request({ method: "eth_sendRawTransaction", params: [raw] });
          await settle(hash, id);
        } else {
          await sent;
          const sending = client.request({ method: "eth_sendRawTransaction", params: [raw] });
          sent = sending;
          void sending.then((hash) => settle(hash, id));
        }
      }
      await sent;
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
          const accepted = await naiveRequest(
            kind,
            chainId,
            target,
            JSON.parse(Buffer.concat(chunks).toString()),
          );
          if (accepted === undefined) {
            status = 422;
            body = { error: "bad signature" };
          } else {
            queue.push(accepted);
            // A failed send or receipt read would leave the queue stalled and the run waiting for nothing: stop.
            work().catch((error: unknown) => {
              process.stderr.write(`naive relayer failed: ${String(error)}\n`);
              process.exit(1);
            });
            status = 202;
            body = { id: accepted.id, status: "accepted" };
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

/** Children still running: a run that fails stops them on its way out, so none outlives the benchmark. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

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
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  let started = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${args.join(" ")} did not start:\n${output}`));
    }, 60_000);
    const look = (chunk: Buffer) => {
      if (started) {
        // Keep draining the pipe, but only the tail for an error message: the node logs every call, and
        // searching its whole output again for each chunk cost this process seconds of CPU in a run.
        output = (output + chunk.toString()).slice(-4_000);
        return;
      }
      output += chunk.toString();
      const match = ready.exec(output);
      if (match !== null) {
        started = true;
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", (code, signal) => {
      const message = `${args.join(" ")} exited ${String(code ?? signal)}:\n${output}`;
      // After it started, a failure shows up as the run's connection errors: say why next to them.
      if (started && code !== 0 && signal !== "SIGTERM") process.stderr.write(`${message}\n`);
      reject(new Error(message));
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
  /** p99 from the start of the POST: includes any wait for room in the queue (backpressure) before the `202`. */
  postToSettledP99Ms: number;
  /** Blocks mined during the run (the whole stream, warm-up included), and their mean interval. */
  blocks: number;
  meanBlockIntervalMs: number;
  /** Gas the run's blocks used, per payment settled. */
  gasPerPayment: number;
  /** CPU milliseconds per payment spent by the relayer, the node and the load generator. */
  cpuMsPerPayment: { relayer: number; node: number; loadGenerator: number };
}

/** Gas used by the blocks after `first` up to `last`. */
async function gasUsedSince(client: PublicClient, first: bigint, last: bigint): Promise<bigint> {
  let total = 0n;
  for (let from = first + 1n; from <= last; from += 100n) {
    const numbers = Array.from(
      { length: Number(last - from + 1n < 100n ? last - from + 1n : 100n) },
      (_, i) => client.getBlock({ blockNumber: from + BigInt(i) }),
    );
    for (const block of await Promise.all(numbers)) total += block.gasUsed;
  }
  return total;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function load(
  name: string,
  url: string,
  bodies: string[],
  client: PublicClient,
  pids: { relayer: number | undefined; node: number | undefined },
  options: {
    /**
     * Post at this steady rate (open loop) instead of as fast as the relayer answers; the first `warmup` bodies
     * are posted in the same stream but not measured.
     */
    steady?: { ratePerSecond: number; warmup: number };
    /** What the bodies are (default: same-currency payments). */
    kind?: RequestKind;
  } = {},
): Promise<RunResult> {
  const { steady, kind = "payment" } = options;
  const route = ROUTES[kind];
  const ratePerSecond = steady?.ratePerSecond;
  const measureFrom = steady?.warmup ?? 0;
  const measured = bodies.length - measureFrom;
  type FeedPage = { items: { id: string }[]; next: string };
  const feed = async (since: string) =>
    JSON.parse(
      (await send(url, "GET", `${route}?status=settled&since=${since}&limit=1000`)).text,
    ) as FeedPage;
  // Payments settled before this run (a warm-up) are in the feed already: start after them.
  let since = "0";
  for (let page = await feed(since); ; page = await feed(since)) {
    since = page.next;
    if (page.items.length < 1000) break;
  }
  /** Of the measured payments only. */
  const acceptedAt = new Map<string, number>();
  const postedAt = new Map<string, number>();
  const settledAt = new Map<string, number>();
  // CPU, blocks and gas are counted over the whole stream (a steady one costs the same per payment throughout),
  // latency and throughput over the measured payments.
  const before = {
    block: await client.getBlockNumber({ cacheTime: 0 }),
    relayer: await cpuSeconds(pids.relayer),
    node: await cpuSeconds(pids.node),
    self: process.cpuUsage(),
  };
  const started = performance.now();
  /** When the first measured payment was posted. */
  let measuredFrom = started;
  let next = 0;
  const poster = async () => {
    for (let index = next++; index < bodies.length; index = next++) {
      if (ratePerSecond !== undefined) {
        const wait = started + (index * 1000) / ratePerSecond - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const posted = performance.now();
      if (index === measureFrom) measuredFrom = posted;
      const { status, text } = await send(url, "POST", route, bodies[index]);
      if (status !== 202) throw new Error(`${name}: payment ${index} answered ${status}: ${text}`);
      const { id } = JSON.parse(text) as { id: string };
      if (index < measureFrom) continue;
      acceptedAt.set(id, performance.now());
      postedAt.set(id, posted);
    }
  };
  let polling = true;
  const poller = async () => {
    while (polling) {
      const page = await feed(since);
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
  const self = process.cpuUsage(before.self);
  const perPayment = (seconds: number) => Number(((seconds * 1000) / bodies.length).toFixed(3));
  const cpuMsPerPayment = {
    relayer: perPayment((await cpuSeconds(pids.relayer)) - before.relayer),
    node: perPayment((await cpuSeconds(pids.node)) - before.node),
    loadGenerator: perPayment((self.user + self.system) / 1e6),
  };
  const measuredSettled = [...acceptedAt.keys()].map((id) => settledAt.get(id) ?? Number.NaN);
  const seconds = (Math.max(...measuredSettled) - measuredFrom) / 1000;
  const streamMs = Math.max(...settledAt.values()) - started;
  const firstBlock = before.block;
  const lastBlock = await client.getBlockNumber({ cacheTime: 0 });
  if (TRACE_PREFIX !== undefined) {
    const since = (at: number | undefined) => Math.round((at ?? Number.NaN) - measuredFrom);
    await writeFile(
      `${TRACE_PREFIX}.${name.replace(/\W+/g, "_")}.json`,
      JSON.stringify([...acceptedAt].map(([id, at]) => [since(at), since(settledAt.get(id))])),
    );
  }
  const sortedLatencies = (from: Map<string, number>) =>
    [...from].map(([id, at]) => (settledAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
  const latencies = sortedLatencies(acceptedAt);
  return {
    relayer: name,
    payments: measured,
    accepted: acceptedAt.size,
    seconds: Number(seconds.toFixed(2)),
    paymentsPerSecond: Math.round(measured / seconds),
    latencyP50Ms: Math.round(percentile(latencies, 50)),
    latencyP99Ms: Math.round(percentile(latencies, 99)),
    postToSettledP99Ms: Math.round(percentile(sortedLatencies(postedAt), 99)),
    blocks: Number(lastBlock - firstBlock),
    meanBlockIntervalMs: Math.round(streamMs / Math.max(1, Number(lastBlock - firstBlock))),
    gasPerPayment: Math.round(Number(await gasUsedSince(client, firstBlock, lastBlock)) / bodies.length),
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
    const [governor, , , , , , adminA, adminB, adminC] = addresses as [Address, ...Address[]];
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
    // Cross-currency: Alpha's CNY payers pay this HKD merchant of Beta at quotes Gamma's key signs.
    await wait(ledgerAs(adminB as Address).write.openAccount([merchant, HKD]));
    const quoteKey = generatePrivateKey();
    await wait(registryAs(adminC as Address).write.setRelayer([privateKeyToAccount(quoteKey).address, true]));
    const hotKeys = Array.from({ length: 7 }, () => generatePrivateKey());
    for (const key of hotKeys) {
      const address = privateKeyToAccount(key).address;
      await wait(signerFor(governor).sendTransaction({ to: address, value: parseEther("1000") }));
      await wait(registryAs(adminA as Address).write.setRelayer([address, true]));
    }
    const [sequentialKey, pipelinedKey, naiveFxKey, baselineKeyA, baselineKeyB, ...ourKeys] = hotKeys as [
      Hex,
      Hex,
      Hex,
      Hex,
      Hex,
      ...Hex[],
    ];

    progress(
      `funding payers and signing ${
        2 * NAIVE_PAYMENTS +
        (BASELINE_ROOT === undefined ? 1 : 2) * OUR_PAYMENTS +
        (BLOCK_MS > 0 ? STEADY_PAYMENTS + WARMUP_PAYMENTS : 0) +
        STEADY_PAYMENTS +
        WARMUP_PAYMENTS +
        NAIVE_FX_PAYMENTS +
        FX_PAYMENTS
      } payments`,
    );
    const hasher = await createTypedDataHasher(domain);
    const fxDomainOf = fxDomain(chainId, deployment.fx);
    const fxHasher = await createFxTypedDataHasher(fxDomainOf);
    const rate = rateFromDecimal("1.0850", CNY, HKD);
    const signDigest = (digest: Uint8Array, key: Hex): Hex => {
      const { signature, recoveryId } = secp256k1.signRecoverable(digest, Buffer.from(key.slice(2), "hex"));
      return `0x${Buffer.from(signature).toString("hex")}${(27 + recoveryId).toString(16)}`;
    };
    /** A quote of Gamma for `maxToAmount` HKD, valid from a minute ago for two hours, and its signature. */
    const signQuote = (maxToAmount: bigint, label: string) => {
      const now = BigInt(Math.floor(Date.now() / 1000));
      const quote: FxQuote = {
        provider: deployment.banks.GAMMHKHH as number,
        fromCurrency: CNY,
        toCurrency: HKD,
        rate,
        maxToAmount,
        validFrom: now - 60n,
        expiry: now + 7_200n,
        quoteId: keccak256(stringToHex(`bench quote ${label}`)),
      };
      const digest = hashTypedData({
        domain: fxDomainOf,
        types: fxTypes,
        primaryType: "FxQuote",
        message: quote,
      });
      return {
        signed: { quote: toWireFxQuote(quote), quoteSignature: signDigest(hexToBytes(digest), quoteKey) },
        hash: fxHasher.quote(quote),
      };
    };
    /**
     * Signed requests in the order of `streamLayout`: same-currency payments, or cross-currency ones of HKD 1.00
     * and up, the payers' in groups of about 1,000 payments on one quote (as a wallet reuses a quote until it
     * runs out) that holds twice what they receive. Intake counts each payment once, except for a batch mined
     * that the tracker has not recorded yet (its last poll older than 5 s, or a refusal being confirmed at the
     * node's newest block): sized exactly, a quote's last payments could meet that, and the run measures speed.
     */
    const signAll = async (count: number, kind: RequestKind = "payment"): Promise<string[]> => {
      const { payments, order } = streamLayout(count);
      const byPayer: string[][] = [];
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 7_200);
      const receiveAmount = (nonce: number) => 100n + BigInt(nonce);
      // Consecutive payers share a quote until it covers PAYMENTS_PER_QUOTE payments.
      const capacities: bigint[] = [];
      let onQuote = PAYMENTS_PER_QUOTE;
      let capacity = 0n;
      const quoteOf = payments.map((paymentsOfPayer) => {
        if (onQuote >= PAYMENTS_PER_QUOTE) {
          capacities.push(0n);
          onQuote = 0;
          capacity = 0n;
        }
        onQuote += paymentsOfPayer;
        for (let nonce = 0; nonce < paymentsOfPayer; nonce++) capacity += receiveAmount(nonce);
        capacities[capacities.length - 1] = capacity;
        return capacities.length - 1;
      });
      const quotes =
        kind === "fx"
          ? capacities.map((capacity, index) =>
              signQuote(2n * capacity, `${kind} ${count} ${index} ${Date.now()}`),
            )
          : [];
      for (const [index, paymentsOfPayer] of payments.entries()) {
        const key = generatePrivateKey();
        const payer = privateKeyToAccount(key).address;
        await wait(ledgerAs(adminA as Address).write.issueDeposits([payer, CNY, 1_000_000_00n]));
        const bodies: string[] = [];
        byPayer.push(bodies);
        const quote = quotes[quoteOf[index] as number];
        for (let nonce = 0; nonce < paymentsOfPayer; nonce++) {
          const qrHash = keccak256(stringToHex(`bench ${kind} ${index} ${nonce}`));
          if (kind === "fx" && quote !== undefined) {
            const payment: FxPayment = {
              payer,
              payee: merchant,
              payeeBank: deployment.banks.BETACNBJ as number,
              payCurrency: CNY,
              payAmount: payAmountFor(receiveAmount(nonce), rate),
              receiveCurrency: HKD,
              receiveAmount: receiveAmount(nonce),
              quoteHash: quote.hash,
              qrHash,
              nonce: BigInt(nonce),
              deadline,
            };
            const signed: WireSignedFxPayment = {
              ...quote.signed,
              payment: toWireFxPayment(payment),
              signature: signDigest(fxHasher.payment(payment).digest, key),
            };
            bodies.push(JSON.stringify(signed));
            continue;
          }
          const payment: Payment = {
            payer,
            payee: merchant,
            payeeBank: deployment.banks.BETACNBJ as number,
            currency: CNY,
            amount: 100n + BigInt(nonce),
            qrHash,
            nonce: BigInt(nonce),
            deadline,
          };
          const signed: WireSignedPayment = {
            payment: toWirePayment(payment),
            signature: signDigest(hasher.payment(payment).digest, key),
          };
          bodies.push(JSON.stringify(signed));
        }
      }
      return order.map(({ payer, nonce }) => byPayer[payer]?.[nonce] as string);
    };
    const naiveBodies = {
      sequential: await signAll(NAIVE_PAYMENTS),
      pipelined: await signAll(NAIVE_PAYMENTS),
    };
    const ourBodies = await signAll(OUR_PAYMENTS);
    // A steady run's warm-up is the start of its stream, so the measured payments continue it seamlessly.
    const warmedStream = async () => {
      const stream = await signAll(WARMUP_PAYMENTS + STEADY_PAYMENTS);
      return { warmup: stream.slice(0, WARMUP_PAYMENTS), bodies: stream.slice(WARMUP_PAYMENTS) };
    };
    const steadyStream = await warmedStream();
    const timedStream = BLOCK_MS > 0 ? await warmedStream() : { warmup: [], bodies: [] };
    const baselineBodies = BASELINE_ROOT === undefined ? [] : await signAll(OUR_PAYMENTS);
    const naiveFxBodies = await signAll(NAIVE_FX_PAYMENTS, "fx");
    const ourFxBodies = await signAll(FX_PAYMENTS, "fx");

    const runNaive = async (
      mode: NaiveMode,
      key: Hex,
      bodies: string[],
      kind: RequestKind = "payment",
    ): Promise<RunResult> => {
      const name = `naive ${mode}${kind === "fx" ? ", cross-currency" : ""} (1 tx per payment)`;
      progress(`${name}: ${bodies.length} payments`);
      const naive = await startChild(
        [
          ...profileFlags,
          path.join(ROOT, "benchmarks/relayer.ts"),
          "--naive",
          mode,
          kind,
          rpcUrl,
          kind === "fx" ? deployment.fx : deployment.ledger,
          key,
          String(chainId),
        ],
        {},
        /listening on (http:\/\/\S+)/,
      );
      const result = await load(
        name,
        naive.match[1] as string,
        bodies,
        client,
        { relayer: naive.child.pid, node: node.child.pid },
        { kind },
      );
      await stopChild(naive.child);
      progress(JSON.stringify(result));
      return result;
    };
    const sequentialResult = await runNaive("sequential", sequentialKey, naiveBodies.sequential);
    const pipelinedResult = await runNaive("pipelined", pipelinedKey, naiveBodies.pipelined);

    const runOurs = async (
      name: string,
      root: string,
      keys: Hex[],
      bodies: string[],
      steady?: { ratePerSecond: number; warmup: string[]; maxInFlight?: number },
      kind: RequestKind = "payment",
    ): Promise<RunResult> => {
      const ratePerSecond = steady?.ratePerSecond;
      progress(`${name}: ${bodies.length} payments`);
      const config: RelayerConfigInput = {
        instanceId: "benchmark",
        chain: { rpcUrl, chainId, ledger: deployment.ledger, fx: deployment.fx, ...OUR_CONFIG.chain },
        store: {
          kind: "sqlite",
          sqlitePath: path.join(dir, `${name.replace(/\W+/g, "_")}.db`),
          sqliteSynchronous: "full",
        },
        batch: OUR_CONFIG.batch,
        wallets: {
          ...OUR_CONFIG.wallets,
          ...(steady?.maxInFlight ? { maxInFlight: steady.maxInFlight } : {}),
        },
        validation: OUR_CONFIG.validation,
        api: {
          // An older checkout (QRSETTLE_BENCH_BASELINE_ROOT) may not know the newer API keys.
          ...(root === ROOT ? OUR_CONFIG.api : {}),
          port: 0,
          clients: [
            { id: "bench", keySha256: hashApiKey(API_KEY), ratePerSecond: 1_000_000, burst: 1_000_000 },
          ],
        },
        log: { level: "warn" },
      };
      const configFile = path.join(dir, `${name.replace(/\W+/g, "_")}.json`);
      await writeFile(configFile, JSON.stringify(config));
      const ours = await startChild(
        [...profileFlags, path.join(root, "src/relayer/main.ts"), "--config", configFile],
        { QRSETTLE_RELAYER_KEYS: keys.join(",") },
        /listening on (http:\/\/\S+)/,
      );
      // A freshly started process runs cold for its first seconds (JIT, caches): at a steady rate, the first
      // payments of the same stream warm it, unmeasured, so the measured ones meet it in its steady state.
      if (steady !== undefined) progress(`${name}: the first ${steady.warmup.length} unmeasured (warm-up)`);
      const result = await load(
        name,
        ours.match[1] as string,
        steady === undefined ? bodies : [...steady.warmup, ...bodies],
        client,
        { relayer: ours.child.pid, node: node.child.pid },
        {
          kind,
          ...(ratePerSecond === undefined
            ? {}
            : { steady: { ratePerSecond, warmup: steady?.warmup.length ?? 0 } }),
        },
      );
      await stopChild(ours.child);
      progress(JSON.stringify(result));
      return result;
    };
    const baselineResult =
      BASELINE_ROOT === undefined
        ? undefined
        : await runOurs(
            `ours @ ${BASELINE_ROOT}`,
            BASELINE_ROOT,
            [baselineKeyA, baselineKeyB],
            baselineBodies,
          );
    const ourResult = await runOurs("ours (batched)", ROOT, ourKeys, ourBodies);
    const fasterNaive = Math.max(sequentialResult.paymentsPerSecond, pipelinedResult.paymentsPerSecond);
    const steadyRate = STEADY_RATE === undefined ? 10 * fasterNaive : Number(STEADY_RATE);
    const steadyResult = await runOurs(
      `ours at ${steadyRate}/s offered (10x naive)`,
      ROOT,
      ourKeys,
      steadyStream.bodies,
      { ratePerSecond: steadyRate, warmup: steadyStream.warmup },
    );
    // Cross-currency, after the same-currency runs and before the node changes how it mines: the faster naive
    // mode of the same-currency runs, one settleFxPayments transaction per payment, next to ours saturated.
    const naiveMode =
      pipelinedResult.paymentsPerSecond >= sequentialResult.paymentsPerSecond ? "pipelined" : "sequential";
    const naiveFxResult = await runNaive(naiveMode, naiveFxKey, naiveFxBodies, "fx");
    const fxResult = await runOurs(
      "ours (batched), cross-currency",
      ROOT,
      ourKeys,
      ourFxBodies,
      undefined,
      "fx",
    );
    const fxSpeedup = fxResult.paymentsPerSecond / naiveFxResult.paymentsPerSecond;
    let timed:
      | { result: RunResult; ratePerSecond: number; capacityPerSecond: number; maxInFlight: number }
      | undefined;
    if (BLOCK_MS > 0) {
      const { gasLimit } = await client.getBlock();
      const capacityPerSecond = Math.floor(
        (Number(gasLimit) / steadyResult.gasPerPayment) * (1000 / BLOCK_MS),
      );
      const ratePerSecond = Math.min(steadyRate, Math.floor(CHAIN_LOAD * capacityPerSecond));
      // Inclusion waits for the next block, not for the transaction before: a transaction holds its slot for up
      // to a block interval (a quarter longer under load, as measured here) and a poll. Let a batch go out every
      // window of that, and one more, across the wallets, as docs/relayer.md advises.
      const slotMs = LATE_BLOCKS * BLOCK_MS + OUR_CONFIG.chain.pollIntervalMs;
      const maxInFlight = Math.ceil((slotMs / OUR_CONFIG.batch.windowMs + 1) / ourKeys.length);
      progress(
        `the node now mines a block every ${BLOCK_MS} ms (${gasLimit} gas: ${capacityPerSecond} payments/s)`,
      );
      await client.request({ method: "evm_setAutomine", params: [false] } as never);
      await client.request({ method: "evm_setIntervalMining", params: [BLOCK_MS] } as never);
      const result = await runOurs(
        `ours at ${ratePerSecond}/s offered, ${BLOCK_MS} ms blocks`,
        ROOT,
        ourKeys,
        timedStream.bodies,
        { ratePerSecond, warmup: timedStream.warmup, maxInFlight },
      );
      timed = { result, ratePerSecond, capacityPerSecond, maxInFlight };
    }

    const blockMs = ourResult.meanBlockIntervalMs;
    const latencyTargetMs = Math.round(OUR_CONFIG.batch.windowMs + 2 * blockMs);
    const naiveResult = naiveMode === "pipelined" ? pipelinedResult : sequentialResult;
    const speedup = ourResult.paymentsPerSecond / naiveResult.paymentsPerSecond;
    const rows = [
      sequentialResult,
      pipelinedResult,
      ...(baselineResult ? [baselineResult] : []),
      ourResult,
      steadyResult,
      ...(timed ? [timed.result] : []),
      naiveFxResult,
      fxResult,
    ].map((r) => ({
      relayer: r.relayer,
      payments: r.payments,
      "payments/s": r.paymentsPerSecond,
      "p50 ms": r.latencyP50Ms,
      "p99 ms": r.latencyP99Ms,
      "p99 from POST": r.postToSettledP99Ms,
      blocks: r.blocks,
      "CPU ms/payment: relayer": r.cpuMsPerPayment.relayer,
      node: r.cpuMsPerPayment.node,
      "load gen": r.cpuMsPerPayment.loadGenerator,
    }));
    console.table(rows);
    console.log(
      `speedup: ${speedup.toFixed(1)}× the faster naive relayer (target ≥ 10×): ` +
        `${(ourResult.paymentsPerSecond / sequentialResult.paymentsPerSecond).toFixed(1)}× the sequential one, ` +
        `${(ourResult.paymentsPerSecond / pipelinedResult.paymentsPerSecond).toFixed(1)}× the pipelined one`,
    );
    console.log(
      `automine: our p99 ${ourResult.latencyP99Ms} ms vs batch window ${OUR_CONFIG.batch.windowMs} ms + 2 blocks (${Math.round(blockMs)} ms each under load, each block one of our batches) = ${latencyTargetMs} ms`,
    );
    const steadyBlockMs = steadyResult.meanBlockIntervalMs;
    const steadyTargetMs = Math.round(OUR_CONFIG.batch.windowMs + 2 * steadyBlockMs);
    console.log(
      `automine at ${steadyRate}/s offered: our p99 ${steadyResult.latencyP99Ms} ms vs batch window ${OUR_CONFIG.batch.windowMs} ms + 2 blocks (${Math.round(steadyBlockMs)} ms each) = ${steadyTargetMs} ms`,
    );
    console.log(
      `cross-currency: ${fxSpeedup.toFixed(1)}× the naive ${naiveMode} relayer (${fxResult.paymentsPerSecond}/s against ${naiveFxResult.paymentsPerSecond}/s)`,
    );
    const timedBlockMs = timed?.result.meanBlockIntervalMs;
    const timedTargetMs = timedBlockMs && Math.round(OUR_CONFIG.batch.windowMs + 2 * timedBlockMs);
    if (timed !== undefined)
      console.log(
        `${BLOCK_MS} ms blocks at ${timed.ratePerSecond}/s offered (the chain holds ${timed.capacityPerSecond}/s; wallets.maxInFlight ${timed.maxInFlight}): our p99 ${timed.result.latencyP99Ms} ms vs batch window ${OUR_CONFIG.batch.windowMs} ms + 2 blocks (${Math.round(timedBlockMs ?? 0)} ms each, against ${BLOCK_MS} ms set) = ${timedTargetMs} ms`,
      );
    if (STEADY_RATE !== undefined) {
      progress("QRSETTLE_BENCH_STEADY_RATE is set: results not written");
      return;
    }
    await mkdir(path.join(ROOT, "benchmarks/results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "benchmarks/results/relayer.json"),
      `${JSON.stringify(
        {
          description:
            "End-to-end payments/s (first POST to last settled seen) and accept-to-settled latency, ours (saturated, and at a steady 10x the faster naive relayer's rate after a warm-up: `atTenTimesNaive`) and two naive relayers (one settlePayments transaction per payment: sequential, reading each receipt before the next send; pipelined, signing ahead and reading receipts alongside sends in nonce order), against one local `hardhat node` (automine), load generator with 64 requests in flight, all on this machine. `speedup` is against the faster of the two naive relayers in the run (`speedupOver`). `intervalMining`: ours again, steady, after the node switched to a block every `blockMs`, at 10x naive or a quarter of the chain's gas capacity, whichever is lower, with enough transactions in flight for a batch every window of a block interval. `crossCurrency`: cross-currency payments (CNY to HKD at an FX provider's quote), ours saturated against the faster naive mode sending one settleFxPayments transaction per payment.",
          measuredAt: new Date().toISOString(),
          node: process.version,
          cpu: cpus()[0]?.model ?? "unknown",
          cores: cpus().length,
          ourConfig: OUR_CONFIG,
          results: [
            sequentialResult,
            pipelinedResult,
            ourResult,
            steadyResult,
            ...(timed ? [timed.result] : []),
            naiveFxResult,
            fxResult,
          ],
          speedupOver: naiveResult.relayer,
          speedup: Number(speedup.toFixed(1)),
          latencyTargetMs,
          meanBlockIntervalMs: Math.round(blockMs),
          atTenTimesNaive: {
            offeredPerSecond: steadyRate,
            paymentsPerSecond: steadyResult.paymentsPerSecond,
            latencyP99Ms: steadyResult.latencyP99Ms,
            latencyTargetMs: steadyTargetMs,
            meanBlockIntervalMs: Math.round(steadyBlockMs),
          },
          crossCurrency: {
            speedupOver: naiveFxResult.relayer,
            speedup: Number(fxSpeedup.toFixed(1)),
            paymentsPerSecond: fxResult.paymentsPerSecond,
            latencyP99Ms: fxResult.latencyP99Ms,
            gasPerPayment: fxResult.gasPerPayment,
          },
          ...(timed === undefined
            ? {}
            : {
                intervalMining: {
                  blockMs: BLOCK_MS,
                  chainCapacityPerSecond: timed.capacityPerSecond,
                  offeredPerSecond: timed.ratePerSecond,
                  walletsMaxInFlight: timed.maxInFlight,
                  paymentsPerSecond: timed.result.paymentsPerSecond,
                  latencyP99Ms: timed.result.latencyP99Ms,
                  meanBlockIntervalMs: Math.round(timedBlockMs ?? 0),
                  latencyTargetMs: timedTargetMs,
                },
              }),
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
  const [mode, kind, rpcUrl, target, key, chainId] = process.argv.slice(naiveIndex + 1);
  // Exit normally when stopped, so a CPU profile (--cpu-prof) is written.
  process.once("SIGTERM", () => process.exit(0));
  await runNaiveRelayer(
    mode as NaiveMode,
    kind as RequestKind,
    rpcUrl as string,
    target as Address,
    key as Hex,
    Number(chainId),
  );
} else {
  await main();
}
