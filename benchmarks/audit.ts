/**
 * The auditor's throughput and memory on a long history, next to a naive baseline measured in the same run.
 *
 * History: the sample network (three banks) on Anvil, a separate process, so the chain's own memory is not
 * counted. 2,000 payers at Alpha Bank pay 200 merchants spread over all three banks in batches of 800
 * (under the 16,777,216-gas transaction cap), half an hour of chain time apart, until SIZES settled
 * payments exist. Payments are signed on worker threads with libsecp256k1 (WebAssembly).
 *
 * At each size the audit runs in a child process, from an empty store, as `qrsettle audit` would: fetch
 * (index), decode, checks (replay, calldata, every signature, state comparison). Each child reports its
 * timings and peak resident memory (`maxRSS`, worker threads and SQLite included), and runs under a fixed
 * V8 heap limit that does not grow with the history. The baseline — fetch every log in one call into memory,
 * decode with viem, verify signatures with viem's pure-JavaScript recovery, keep every id in a Set — runs at
 * the smallest size only: it needs minutes per 100,000 payments.
 *
 * Run with `npx tsx benchmarks/audit.ts` (SIZES=50000,250000,1000000 by default; BASELINE=0 to skip the
 * baseline). Prints a table and writes benchmarks/results/audit.json.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

import * as secp256k1 from "tiny-secp256k1";
import {
  compactSignatureToSignature,
  createPublicClient,
  createWalletClient,
  decodeFunctionData,
  hashTypedData,
  http,
  parseCompactSignature,
  parseEventLogs,
  recoverAddress,
  serializeSignature,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

import type { AuditedDeployment } from "../src/audit/verifyDeployment.ts";
import { createLedgerHasher } from "../src/audit/ledgerHasher.ts";
import { runAudit } from "../src/audit/runAudit.ts";
import { deployNetwork, type Signer } from "../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../src/deploy/sample.ts";
import {
  bankRegistryAbi,
  decodePaymentBatch,
  decodePaymentTerms,
  encodePaymentBatch,
  ledgerDomain,
  ledgerTypes,
  settlementLedgerAbi,
  type Payment,
} from "../src/protocol/index.ts";
import { startAnvil } from "../test/helpers/anvil.ts";

const SIZES = (process.env.SIZES ?? "50000,250000,1000000").split(",").map(Number);
/** `BASELINE=0` skips the naive baseline, for a quick re-measurement of ours at one large size. */
const WITH_BASELINE = process.env.BASELINE !== "0";
const BATCH_SIZE = 800;
const PAYERS = 2_000;
const MERCHANTS = 200;
const { CNY } = SAMPLE_CURRENCIES;
const MNEMONIC = "test test test test test test test test test test test junk";
/**
 * V8 heap limit of our audit's process. Left alone, V8 grows its heap lazily on a big machine, so peak RSS
 * says little; an audit that completes at every size under one fixed limit shows its memory is bounded.
 * The baseline runs without a limit, as a naive tool would.
 */
const OURS_HEAP_LIMIT_MIB = 512;

/** What a child process reports about one audit run. */
interface Measurement {
  events: number;
  payments: number;
  fetchSeconds: number;
  decodeSeconds: number;
  checkSeconds: number;
  stateSeconds: number;
  totalSeconds: number;
  peakRssMiB: number;
  passed: boolean;
  /** The machine's one-minute load average when the run ended: other work on the 2 cores slows every rate. */
  loadAverage: number;
}

const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

async function main(): Promise<void> {
  // The code size limit is the deployment's concern, not the auditor's: lifted so a ledger under development
  // can be measured too.
  const anvil = await startAnvil([
    "--accounts",
    "20",
    "--balance",
    "1000000",
    "--gas-limit",
    "100000000",
    "--disable-code-size-limit",
  ]);
  const workers = Array.from(
    { length: 2 },
    () => new Worker(new URL(import.meta.url), { workerData: { payers: payerKeys() } }),
  );
  try {
    const publicClient = createPublicClient({ chain: foundry, transport: http(anvil.url) }) as PublicClient;
    const signers = Array.from({ length: 20 }, (_, i) =>
      createWalletClient({
        account: mnemonicToAccount(MNEMONIC, { addressIndex: i }),
        chain: foundry,
        transport: http(anvil.url),
      }),
    ) as unknown as Signer[];
    const signerFor = (address: Address): Signer =>
      signers.find((s) => s.account.address.toLowerCase() === address.toLowerCase()) as Signer;
    progress("deploying the sample network on Anvil");
    const spec = sampleNetworkSpec(signers.map((s) => s.account.address));
    for (const bank of spec.banks) bank.reserves[CNY] = 10n ** 20n;
    const deployed = await deployNetwork(publicClient, signerFor, spec);
    const deployment: AuditedDeployment = {
      chainId: deployed.chainId,
      registry: deployed.registry,
      ledger: deployed.ledger,
      fx: deployed.fx,
    };
    const [alpha, beta, gamma] = spec.banks as [
      (typeof spec.banks)[0],
      (typeof spec.banks)[0],
      (typeof spec.banks)[0],
    ];
    const ledgerAs = (address: Address) => ({
      // An explicit gas limit skips estimation, which would execute every 800-payment batch twice.
      write: (functionName: "issueDeposits" | "openAccount" | "settlePayments", args: readonly unknown[]) =>
        signerFor(address).writeContract({
          address: deployed.ledger,
          abi: settlementLedgerAbi,
          functionName,
          args: args as never,
          gas: functionName === "settlePayments" ? 16_700_000n : 300_000n,
        }),
    });
    const bankIds = [alpha, beta, gamma].map((b) => deployed.banks[b.bic] as number);
    const payers = payerKeys().map((key) => privateKeyToAccount(key).address);
    const merchants = Array.from({ length: MERCHANTS }, (_, i) => ({
      address: privateKeyToAccount(`0x${(i + 1_000_001).toString(16).padStart(64, "0")}`).address,
      bank: bankIds[i % 3] as number,
      admin: [alpha, beta, gamma][i % 3]?.admin as Address,
    }));

    progress(`funding ${PAYERS} payers and opening ${MERCHANTS} merchant accounts`);
    await sendAll(publicClient, [
      ...payers.map((payer) => () => ledgerAs(alpha.admin).write("issueDeposits", [payer, CNY, 10n ** 15n])),
      ...merchants.map((m) => () => ledgerAs(m.admin).write("openAccount", [m.address, CNY])),
    ]);

    const hasher = await createLedgerHasher(ledgerDomain(deployed.chainId, deployed.ledger));
    const signer = new BatchSigner(workers);
    const relayer = alpha.relayers[0] as Address;
    const deadline = 2n ** 40n - 1n;
    const results: { size: number; ours: Measurement; baseline?: Measurement }[] = [];
    let settled = 0;
    let generateSeconds = 0;
    for (const size of SIZES) {
      const started = performance.now();
      let pending: Promise<unknown> = Promise.resolve();
      while (settled < size) {
        const payments: Payment[] = [];
        for (let i = 0; i < BATCH_SIZE; i++) {
          const n = settled + i;
          const merchant = merchants[(n * 7) % MERCHANTS] as (typeof merchants)[number];
          payments.push({
            payer: payers[n % PAYERS] as Address,
            payee: merchant.address,
            payeeBank: merchant.bank,
            currency: CNY,
            amount: BigInt(100 + (n % 9_900)),
            qrHash: `0x${(n + 1).toString(16).padStart(64, "0")}`,
            nonce: BigInt(Math.floor(n / PAYERS)),
            deadline,
          });
        }
        const signatures = await signer.sign(
          payments.map((p, i) => ({ payer: (settled + i) % PAYERS, digest: hasher.paymentId(p) })),
        );
        const encoded = encodePaymentBatch(
          payments.map((payment, i) => ({ payment, signature: signatures[i] as Hex })),
        );
        // Send the next batch while the previous one is mined; the relayer's nonce orders them.
        await pending;
        await publicClient.request({ method: "evm_increaseTime" as never, params: [1_800] as never });
        pending = ledgerAs(relayer).write("settlePayments", [
          encoded.currency,
          encoded.payees,
          encoded.items,
        ]);
        settled += BATCH_SIZE;
        if ((settled / BATCH_SIZE) % 25 === 0) {
          progress(
            `settled ${settled.toLocaleString("en")} payments (${Math.round(settled / ((performance.now() - started) / 1000 + generateSeconds))}/s)`,
          );
        }
      }
      const hash = (await pending) as Hex;
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error("a benchmark batch reverted");
      generateSeconds += (performance.now() - started) / 1000;

      progress(`auditing ${settled.toLocaleString("en")} settled payments (ours)`);
      const ours = await measureInChild("ours", anvil.url, deployment);
      progress(`  ${JSON.stringify(ours)}`);
      const entry: (typeof results)[number] = { size: settled, ours };
      if (WITH_BASELINE && size === SIZES[0]) {
        progress("auditing with the naive baseline");
        entry.baseline = await measureInChild("baseline", anvil.url, deployment);
        progress(`  ${JSON.stringify(entry.baseline)}`);
      }
      results.push(entry);
    }
    await report(results, generateSeconds);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await anvil.stop();
  }
}

async function report(
  results: { size: number; ours: Measurement; baseline?: Measurement }[],
  generateSeconds: number,
): Promise<void> {
  const perSecond = (count: number, seconds: number) => Math.round(count / Math.max(seconds, 1e-9));
  const row = (name: string, size: number, m: Measurement) =>
    [
      name.padEnd(9),
      size.toLocaleString("en").padStart(10),
      String(perSecond(m.events, m.fetchSeconds)).padStart(10),
      String(perSecond(m.events, m.decodeSeconds)).padStart(10),
      String(perSecond(m.events, m.checkSeconds + m.stateSeconds)).padStart(10),
      m.totalSeconds.toFixed(1).padStart(9),
      String(m.peakRssMiB).padStart(9),
      m.loadAverage.toFixed(1).padStart(6),
      m.passed ? "passed" : "FAILED",
    ].join("  ");
  console.log(`\nhistory generated in ${generateSeconds.toFixed(0)} s`);
  console.log("           payments   fetch/s   decode/s   checks/s   total s   peak MiB    load");
  for (const { size, ours, baseline } of results) {
    console.log(row("ours", size, ours));
    if (baseline !== undefined) console.log(row("baseline", size, baseline));
  }
  const out = {
    description:
      "Audit of a generated history on Anvil: events per second for fetch (index into SQLite), decode and checks (replay, calldata, every payer signature re-verified, state comparison), peak RSS of the audit process, from an empty store at each size. Baseline: every log fetched in one call and held in memory, viem decoding and pure-JS signature recovery, at the smallest size only.",
    batchSize: BATCH_SIZE,
    oursHeapLimitMiB: OURS_HEAP_LIMIT_MIB,
    payers: PAYERS,
    merchants: MERCHANTS,
    generateSeconds: Math.round(generateSeconds),
    results,
    measuredAt: new Date().toISOString(),
  };
  const file = path.resolve(import.meta.dirname, "results/audit.json");
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

/** Runs one measurement in a fresh process, so its peak memory is the audit's alone. */
async function measureInChild(
  mode: "ours" | "baseline",
  rpc: string,
  deployment: AuditedDeployment,
): Promise<Measurement> {
  const heapLimit = mode === "ours" ? [`--max-old-space-size=${OURS_HEAP_LIMIT_MIB}`] : [];
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      ...heapLimit,
      import.meta.filename,
      "--child",
      mode,
      rpc,
      JSON.stringify(deployment),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${mode} audit exited with ${code}`);
  return JSON.parse(stdout) as Measurement;
}

async function measureOurs(rpc: string, deployment: AuditedDeployment): Promise<Measurement> {
  const dir = await mkdtemp(path.join(tmpdir(), "qrsettle-bench-"));
  try {
    const client = createPublicClient({
      transport: http(rpc, {
        batch: { batchSize: 100 },
        timeout: 120_000,
        maxResponseBodySize: 256 * 1024 * 1024,
      }),
    }) as PublicClient;
    const started = performance.now();
    let fetchSeconds = 0;
    const { report } = await runAudit({
      client,
      deployment,
      dbFile: path.join(dir, "audit.sqlite"),
      confirmations: 0n,
      progress: (line) => {
        if (line.startsWith("indexed to block")) fetchSeconds = (performance.now() - started) / 1000;
        if (/^(indexed|reconciled)/.test(line)) progress(`  ${line}`);
      },
    });
    const { stats } = report;
    return {
      events: stats.events,
      payments: stats.payments,
      fetchSeconds,
      decodeSeconds: stats.decodeSeconds,
      checkSeconds: stats.checkSeconds,
      stateSeconds: stats.stateSeconds,
      totalSeconds: (performance.now() - started) / 1000,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      passed: report.passed,
      loadAverage: loadavg()[0] ?? 0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The naive reconciler: everything in memory. One `eth_getLogs` for the whole history, viem's decoder,
 * viem's pure-JavaScript signature recovery, every payment id in a Set, balances in Maps.
 */
async function measureBaseline(rpc: string, deployment: AuditedDeployment): Promise<Measurement> {
  const client = createPublicClient({
    transport: http(rpc, { timeout: 600_000, maxResponseBodySize: 4 * 1024 * 1024 * 1024 }),
  }) as PublicClient;
  const started = performance.now();
  const logs = await client.getLogs({
    address: [deployment.registry, deployment.ledger],
    fromBlock: 0n,
    toBlock: "latest",
  });
  const inputs = new Map<Hex, Hex>();
  for (const hash of new Set(logs.map((log) => log.transactionHash))) {
    inputs.set(hash, (await client.getTransaction({ hash })).input);
  }
  const fetchSeconds = (performance.now() - started) / 1000;
  const events = [
    ...parseEventLogs({ abi: settlementLedgerAbi, logs }),
    ...parseEventLogs({ abi: bankRegistryAbi, logs }),
  ].sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex);
  const decodeSeconds = (performance.now() - started) / 1000 - fetchSeconds;
  const domain = ledgerDomain(deployment.chainId, deployment.ledger);
  const balances = new Map<string, bigint>();
  const ids = new Set<Hex>();
  let payments = 0;
  let passed = true;
  let batchItems: Hex[] = [];
  for (const event of events) {
    if (event.eventName === "DepositsIssued") {
      balances.set(event.args.account, (balances.get(event.args.account) ?? 0n) + event.args.amount);
    } else if (event.eventName === "PaymentSettled") {
      const { amount } = decodePaymentTerms(event.args.terms);
      balances.set(event.args.payer, (balances.get(event.args.payer) ?? 0n) - amount);
      balances.set(event.args.payee, (balances.get(event.args.payee) ?? 0n) + amount);
      if (ids.has(event.args.paymentId)) passed = false;
      ids.add(event.args.paymentId);
      batchItems.push(event.args.paymentId);
      payments += 1;
    } else if (event.eventName === "BatchSettled") {
      const call = decodeFunctionData({
        abi: settlementLedgerAbi,
        data: inputs.get(event.transactionHash) as Hex,
      });
      if (call.functionName === "settlePayments") {
        const signed = decodePaymentBatch({
          currency: call.args[0],
          payees: call.args[1],
          items: call.args[2],
        });
        for (const [i, { payment, signature }] of signed.entries()) {
          const hash = hashTypedData({
            domain,
            types: ledgerTypes,
            primaryType: "Payment",
            message: payment,
          });
          const signer = await recoverAddress({
            hash,
            signature: serializeSignature(compactSignatureToSignature(parseCompactSignature(signature))),
          });
          if (hash !== batchItems[i] || signer.toLowerCase() !== payment.payer.toLowerCase()) passed = false;
        }
      }
      batchItems = [];
    }
  }
  const checkSeconds = (performance.now() - started) / 1000 - fetchSeconds - decodeSeconds;
  return {
    events: logs.length,
    payments,
    fetchSeconds,
    decodeSeconds,
    checkSeconds,
    stateSeconds: 0,
    totalSeconds: (performance.now() - started) / 1000,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    passed,
    loadAverage: loadavg()[0] ?? 0,
  };
}

/** Deterministic payer keys, so worker threads and the main thread agree without passing them around. */
function payerKeys(): Hex[] {
  return Array.from({ length: PAYERS }, (_, i): Hex => `0x${(i + 1).toString(16).padStart(64, "0")}`);
}

/** Signs payment digests on worker threads, returning EIP-2098 compact signatures in order. */
class BatchSigner {
  readonly #workers: Worker[];
  #next = 0;

  constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  async sign(jobs: { payer: number; digest: Hex }[]): Promise<Hex[]> {
    const half = Math.ceil(jobs.length / this.#workers.length);
    const parts = await Promise.all(
      this.#workers.map(
        (worker, w) =>
          new Promise<Hex[]>((resolve) => {
            const id = this.#next++;
            const onMessage = (message: { id: number; signatures: Hex[] }) => {
              if (message.id !== id) return;
              worker.off("message", onMessage);
              resolve(message.signatures);
            };
            worker.on("message", onMessage);
            worker.postMessage({ id, jobs: jobs.slice(w * half, (w + 1) * half) });
          }),
      ),
    );
    return parts.flat();
  }
}

/** Worker thread: signs digests with the payers' keys (libsecp256k1, deterministic RFC 6979 nonces). */
function signerWorker(): void {
  const keys = (workerData as { payers: Hex[] }).payers.map((key) => Buffer.from(key.slice(2), "hex"));
  parentPort?.on("message", ({ id, jobs }: { id: number; jobs: { payer: number; digest: Hex }[] }) => {
    const signatures = jobs.map(({ payer, digest }) => {
      const { signature, recoveryId } = secp256k1.signRecoverable(
        Buffer.from(digest.slice(2), "hex"),
        keys[payer] as Buffer,
      );
      const compact = Buffer.from(signature);
      compact[32] = (compact[32] ?? 0) | (recoveryId << 7);
      const hex: Hex = `0x${compact.toString("hex")}`;
      return hex;
    });
    parentPort?.postMessage({ id, signatures });
  });
}

/** Sends transactions one after another (one sender's nonces must not race) and waits for the last. */
async function sendAll(publicClient: PublicClient, sends: (() => Promise<Hex>)[]): Promise<void> {
  let last: Hex | undefined;
  for (const send of sends) last = await send();
  if (last !== undefined) await publicClient.waitForTransactionReceipt({ hash: last });
}

// Last, so that every class above is initialised: the same file is the benchmark, its children and workers.
if (!isMainThread) {
  signerWorker();
} else if (process.argv[2] === "--child") {
  const [mode, rpc, deploymentJson] = process.argv.slice(3) as ["ours" | "baseline", string, string];
  const deployment = JSON.parse(deploymentJson) as AuditedDeployment;
  const measurement =
    mode === "ours" ? await measureOurs(rpc, deployment) : await measureBaseline(rpc, deployment);
  process.stdout.write(JSON.stringify(measurement));
} else {
  await main();
}
