import { toEventSelector, type Hex, type PublicClient } from "viem";

import { settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { BlockRangeSizer, type BlockRangeSizerOptions } from "./blockRangeSizer.ts";
import { AuditError } from "./errors.ts";
import type { AuditStore, Checkpoint, StoredBlock, StoredLog, StoredTransaction } from "./store.ts";
import { firstBlockToIndex, type AuditedDeployment } from "./verifyDeployment.ts";

/**
 * Ledger events whose transactions' calldata the auditor keeps, to re-verify the signatures in it; every
 * log of the FX module marks a `settleFxPayments` transaction whose calldata is kept too.
 */
const CALLDATA_EVENTS = new Set<Hex>(
  (["BatchSettled", "PaymentRefunded", "RefundRejected", "CrossCurrencySettled"] as const).map((name) => {
    const event = settlementLedgerAbi.find((item) => item.type === "event" && item.name === name);
    if (event?.type !== "event") throw new Error(`ABI has no event ${name}`);
    return toEventSelector(event);
  }),
);

/** What the indexer reports while it runs. */
export type IndexProgress =
  | { kind: "start"; fromBlock: bigint; toBlock: bigint }
  | { kind: "range"; fromBlock: bigint; toBlock: bigint; target: bigint; logs: number; totalLogs: number }
  | { kind: "retry"; fromBlock: bigint; toBlock: bigint; attempt: number; error: string }
  | { kind: "reorg"; forkBlock: bigint; rolledBackFrom: bigint };

/** Options of {@link indexDeployment}. */
export interface IndexDeploymentOptions {
  client: PublicClient;
  store: AuditStore;
  deployment: AuditedDeployment;
  /** Blocks below the head that are left unindexed until they are this deep. */
  confirmations: bigint;
  onProgress?: (progress: IndexProgress) => void;
  range?: BlockRangeSizerOptions;
  /** Consecutive failures of a single-block range before giving up. */
  maxAttempts?: number;
}

/** What one indexing run did. */
export interface IndexSummary {
  fromBlock: bigint;
  /** The checkpoint after the run: every log up to here is stored. Undefined while no block is confirmed. */
  checkpoint: Checkpoint | undefined;
  logsAdded: number;
  /** Reorgs detected and undone in this run. */
  reorgs: { forkBlock: bigint; rolledBackFrom: bigint }[];
}

/** Thrown inside a range when the chain changed while it was being read; the range is retried. */
class ChainMovedError extends Error {
  override name = "ChainMovedError";
}

/**
 * Brings the store up to `head − confirmations`: reads the logs of the deployment's registry, ledger and FX
 * module in adaptive block ranges, the headers of the blocks they are in, and the calldata of settlement
 * transactions. Resumes from the store's
 * checkpoint. Before each range it checks that the checkpoint block is still on the chain; if a reorg
 * replaced it, it walks back through the stored headers to the fork point and undoes everything above.
 * Uses only standard JSON-RPC methods.
 *
 * @throws {AuditError} `AUDIT_RPC` when a single-block range keeps failing. A reorg below every stored
 * header is no error: indexing restarts from the deployment block.
 * @example
 * const summary = await indexDeployment({ client, store, deployment, confirmations: 12n });
 */
export async function indexDeployment(options: IndexDeploymentOptions): Promise<IndexSummary> {
  const { client, store, deployment, confirmations, onProgress } = options;
  const maxAttempts = options.maxAttempts ?? 6;
  const head = await client.getBlockNumber();
  const target = head - confirmations;
  const firstBlock = await firstBlockToIndex(client, deployment, head);
  const reorgs: IndexSummary["reorgs"] = [];
  const sizer = new BlockRangeSizer(options.range);
  let logsAdded = 0;
  let totalLogs = store.logCount();

  // Anything above the checkpoint's stored header is from an interrupted run or a damaged store: drop it.
  store.rollbackTo(store.checkpoint()?.blockNumber ?? firstBlock - 1n);
  let checkpoint = await undoReorg(client, store, firstBlock, reorgs, onProgress);
  const startBlock = checkpoint === undefined ? firstBlock : checkpoint.blockNumber + 1n;
  onProgress?.({ kind: "start", fromBlock: startBlock, toBlock: target });

  let attempt = 0;
  for (;;) {
    const from = checkpoint === undefined ? firstBlock : checkpoint.blockNumber + 1n;
    if (from > target) break;
    const to = from + sizer.size - 1n > target ? target : from + sizer.size - 1n;
    try {
      const range = await readRange(client, deployment, from, to, checkpoint?.blockHash);
      store.commitRange(range);
      sizer.succeeded(range.logs.length);
      attempt = 0;
      logsAdded += range.logs.length;
      totalLogs += range.logs.length;
      checkpoint = range.checkpoint;
      onProgress?.({
        kind: "range",
        fromBlock: from,
        toBlock: to,
        target,
        logs: range.logs.length,
        totalLogs,
      });
    } catch (error) {
      if (error instanceof ChainMovedError) {
        checkpoint = await undoReorg(client, store, firstBlock, reorgs, onProgress);
        continue;
      }
      attempt += 1;
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      onProgress?.({ kind: "retry", fromBlock: from, toBlock: to, attempt, error: message ?? "" });
      if (!sizer.failed(to - from + 1n) && attempt >= maxAttempts) {
        throw new AuditError("AUDIT_RPC", "The RPC endpoint keeps failing on a single block.", {
          details: { block: from, attempts: attempt },
          cause: error,
        });
      }
      await sleep(Math.min(100 * 2 ** attempt, 5_000));
    }
  }
  return { fromBlock: startBlock, checkpoint, logsAdded, reorgs };
}

/**
 * If the checkpoint block is no longer on the chain, finds the newest stored block that still is and
 * rolls the store back to it. Returns the checkpoint to resume from.
 */
async function undoReorg(
  client: PublicClient,
  store: AuditStore,
  firstBlock: bigint,
  reorgs: IndexSummary["reorgs"],
  onProgress: IndexDeploymentOptions["onProgress"],
) {
  const checkpoint = store.checkpoint();
  if (checkpoint === undefined) return undefined;
  if ((await canonicalHash(client, checkpoint.blockNumber)) === checkpoint.blockHash) return checkpoint;
  let forkBlock = firstBlock - 1n;
  for (const block of store.blocksFrom(checkpoint.blockNumber - 1n)) {
    if ((await canonicalHash(client, block.number)) === block.hash) {
      forkBlock = block.number;
      break;
    }
  }
  store.rollbackTo(forkBlock);
  reorgs.push({ forkBlock, rolledBackFrom: checkpoint.blockNumber });
  onProgress?.({ kind: "reorg", forkBlock, rolledBackFrom: checkpoint.blockNumber });
  return store.checkpoint();
}

/** The hash of the chain's block at `blockNumber`, or undefined if the chain is not that long (any more). */
async function canonicalHash(client: PublicClient, blockNumber: bigint): Promise<Hex | undefined> {
  try {
    return (await client.getBlock({ blockNumber })).hash;
  } catch {
    return undefined;
  }
}

/** Reads one block range: logs, the headers they sit in, and settlement calldata; checks it is one chain. */
async function readRange(
  client: PublicClient,
  deployment: AuditedDeployment,
  from: bigint,
  to: bigint,
  parentHash: Hex | undefined,
) {
  const [first, last] = await Promise.all([header(client, from), header(client, to)]);
  if (parentHash !== undefined && first.parentHash !== parentHash) {
    throw new ChainMovedError(`block ${from} no longer follows the checkpoint`);
  }
  const rawLogs = await client.getLogs({
    address: [deployment.registry, deployment.ledger, deployment.fx],
    fromBlock: from,
    toBlock: to,
  });
  const headers = new Map<bigint, StoredBlock>([
    [first.number, first],
    [last.number, last],
  ]);
  const missing = [...new Set(rawLogs.map((log) => log.blockNumber))].filter((n) => !headers.has(n));
  for (const block of await Promise.all(missing.map((n) => header(client, n))))
    headers.set(block.number, block);

  const logs: StoredLog[] = [];
  const calldataTxs = new Map<Hex, Hex>();
  for (const log of rawLogs) {
    if (log.removed || headers.get(log.blockNumber)?.hash !== log.blockHash) {
      throw new ChainMovedError(`log ${log.logIndex} of block ${log.blockNumber} is not on the chain`);
    }
    logs.push({
      blockNumber: log.blockNumber,
      logIndex: log.logIndex,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      address: log.address,
      topics: log.topics,
      data: log.data,
    });
    const topic0 = log.topics[0];
    const fromFx = log.address.toLowerCase() === deployment.fx.toLowerCase();
    if (fromFx || (topic0 !== undefined && CALLDATA_EVENTS.has(topic0))) {
      calldataTxs.set(log.transactionHash, log.blockHash);
    }
  }
  const transactions: StoredTransaction[] = await Promise.all(
    [...calldataTxs].map(async ([hash, blockHash]) => {
      const tx = await client.getTransaction({ hash });
      if (tx.blockHash !== blockHash) throw new ChainMovedError(`transaction ${hash} moved`);
      return { hash, blockNumber: tx.blockNumber, from: tx.from, to: tx.to, input: tx.input };
    }),
  );
  return {
    logs,
    blocks: [...headers.values()],
    transactions,
    checkpoint: { blockNumber: last.number, blockHash: last.hash },
  };
}

async function header(client: PublicClient, blockNumber: bigint): Promise<StoredBlock> {
  const block = await client.getBlock({ blockNumber });
  return { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
