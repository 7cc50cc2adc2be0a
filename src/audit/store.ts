import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { Address, Hex } from "viem";

import type { AuditedDeployment } from "./verifyDeployment.ts";
import { AuditError } from "./errors.ts";

/** Bumped whenever the tables change shape; a store of another version is refused, not migrated. */
const SCHEMA_VERSION = "2";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    address TEXT NOT NULL,
    topic0 TEXT,
    topic1 TEXT,
    topic2 TEXT,
    topic3 TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS transactions (
    hash TEXT PRIMARY KEY,
    block_number INTEGER NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT,
    input TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS transactions_by_block ON transactions (block_number);
`;

/** A block header as the store keeps it: enough to detect reorgs and to date events. */
export interface StoredBlock {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  /** Unix seconds. */
  timestamp: bigint;
}

/** One event log of the deployment, as fetched. */
export interface StoredLog {
  blockNumber: bigint;
  logIndex: number;
  blockHash: Hex;
  transactionHash: Hex;
  address: Address;
  topics: Hex[];
  data: Hex;
}

/** A transaction that settled payments or refunds; its calldata is what signatures are re-verified from. */
export interface StoredTransaction {
  hash: Hex;
  blockNumber: bigint;
  from: Address;
  to: Address | null;
  input: Hex;
}

/** A log read back for reconciliation, with its block's timestamp. */
export interface IndexedLog {
  blockNumber: number;
  logIndex: number;
  transactionHash: Hex;
  address: Address;
  topics: Hex[];
  data: Hex;
  timestamp: number;
}

/** The last block whose logs are all stored. */
export interface Checkpoint {
  blockNumber: bigint;
  blockHash: Hex;
}

/** Everything one indexed block range adds, committed together with the new checkpoint. */
export interface IndexedRange {
  logs: StoredLog[];
  blocks: StoredBlock[];
  transactions: StoredTransaction[];
  checkpoint: Checkpoint;
}

type Row = Record<string, unknown>;

/**
 * The auditor's SQLite store (`node:sqlite`): the deployment's logs, the headers of the blocks they are in,
 * the calldata of settlement transactions, and a checkpoint. Each indexed range is one SQLite transaction,
 * so a crash leaves the store at the previous checkpoint and the next run resumes from there.
 *
 * @example
 * const store = openAuditStore("audit.sqlite", deployment);
 * console.log(store.checkpoint());
 * store.close();
 */
export class AuditStore {
  readonly #db: DatabaseSync;
  readonly #insertLog: StatementSync;
  readonly #insertBlock: StatementSync;
  readonly #insertTransaction: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insertLog = db.prepare(
      `INSERT INTO logs (block_number, log_index, block_hash, tx_hash, address, topic0, topic1, topic2, topic3, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertBlock = db.prepare(
      "INSERT OR REPLACE INTO blocks (number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?)",
    );
    this.#insertTransaction = db.prepare(
      "INSERT OR REPLACE INTO transactions (hash, block_number, from_address, to_address, input) VALUES (?, ?, ?, ?, ?)",
    );
  }

  /** The last fully indexed block, or undefined before the first range. */
  checkpoint(): Checkpoint | undefined {
    const row = this.#db.prepare("SELECT block_number, block_hash FROM checkpoint WHERE id = 1").get();
    if (row === undefined) return undefined;
    return { blockNumber: BigInt(row.block_number as number), blockHash: row.block_hash as Hex };
  }

  /** Stores one range's logs, headers and transactions and moves the checkpoint, atomically. */
  commitRange(range: IndexedRange): void {
    this.#atomically(() => {
      for (const block of range.blocks) {
        this.#insertBlock.run(block.number, block.hash, block.parentHash, block.timestamp);
      }
      for (const log of range.logs) {
        const [topic0, topic1, topic2, topic3] = log.topics;
        this.#insertLog.run(
          log.blockNumber,
          log.logIndex,
          log.blockHash,
          log.transactionHash,
          log.address.toLowerCase(),
          topic0 ?? null,
          topic1 ?? null,
          topic2 ?? null,
          topic3 ?? null,
          log.data,
        );
      }
      for (const tx of range.transactions) {
        this.#insertTransaction.run(tx.hash, tx.blockNumber, tx.from, tx.to, tx.input);
      }
      this.#setCheckpoint(range.checkpoint);
    });
  }

  /**
   * Rolls the store back to the newest stored header at or below `blockNumber`: forgets every log,
   * transaction and header above it (logs undone by a reorg, or left by an interrupted or damaged run) and
   * makes it the checkpoint. With no such header, empties the store.
   */
  rollbackTo(blockNumber: bigint): void {
    this.#atomically(() => {
      const kept = this.#db
        .prepare("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT 1")
        .get(blockNumber);
      const keep = kept === undefined ? -1n : BigInt(kept.number as number);
      this.#db.prepare("DELETE FROM logs WHERE block_number > ?").run(keep);
      this.#db.prepare("DELETE FROM transactions WHERE block_number > ?").run(keep);
      this.#db.prepare("DELETE FROM blocks WHERE number > ?").run(keep);
      if (kept === undefined) this.#db.exec("DELETE FROM checkpoint");
      else this.#setCheckpoint({ blockNumber: keep, blockHash: kept.hash as Hex });
    });
  }

  /** Stored headers from `blockNumber` down, newest first: where to look for the fork point of a reorg. */
  *blocksFrom(blockNumber: bigint): Generator<StoredBlock> {
    const rows = this.#db
      .prepare(
        "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE number <= ? ORDER BY number DESC",
      )
      .iterate(blockNumber);
    for (const row of rows) yield toStoredBlock(row);
  }

  /** Every stored log in chain order, streamed: memory stays flat however long the history. */
  *logs(): Generator<IndexedLog> {
    const statement = this.#db.prepare(
      `SELECT l.block_number, l.log_index, l.tx_hash, l.address, l.topic0, l.topic1, l.topic2, l.topic3, l.data,
              b.timestamp
       FROM logs l LEFT JOIN blocks b ON b.number = l.block_number
       ORDER BY l.block_number, l.log_index`,
    );
    statement.setReturnArrays(true);
    for (const row of statement.iterate() as unknown as unknown[][]) {
      const topics: Hex[] = [];
      for (let i = 4; i <= 7 && row[i] !== null; i++) topics.push(row[i] as Hex);
      yield {
        blockNumber: row[0] as number,
        logIndex: row[1] as number,
        transactionHash: row[2] as Hex,
        address: row[3] as Address,
        topics,
        data: row[8] as Hex,
        timestamp: (row[9] as number | null) ?? 0,
      };
    }
  }

  /** The stored settlement transaction with this hash, if any. */
  transaction(hash: Hex): StoredTransaction | undefined {
    const row = this.#db
      .prepare("SELECT hash, block_number, from_address, to_address, input FROM transactions WHERE hash = ?")
      .get(hash);
    if (row === undefined) return undefined;
    return {
      hash: row.hash as Hex,
      blockNumber: BigInt(row.block_number as number),
      from: row.from_address as Address,
      to: row.to_address as Address | null,
      input: row.input as Hex,
    };
  }

  /** Number of stored logs. */
  logCount(): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM logs").get()?.n as number | undefined) ?? 0;
  }

  close(): void {
    this.#db.close();
  }

  #setCheckpoint({ blockNumber, blockHash }: Checkpoint): void {
    this.#db
      .prepare(
        "INSERT INTO checkpoint (id, block_number, block_hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash",
      )
      .run(blockNumber, blockHash);
  }

  #atomically(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

function toStoredBlock(row: Row): StoredBlock {
  return {
    number: BigInt(row.number as number),
    hash: row.hash as Hex,
    parentHash: row.parent_hash as Hex,
    timestamp: BigInt(row.timestamp as number),
  };
}

/**
 * Opens (creating if needed) the store for one deployment. A store is bound to the chain id, registry,
 * ledger and FX module it was created for; opening it for another deployment is refused rather than
 * mixing histories.
 *
 * @throws {AuditError} `AUDIT_STORE_CORRUPT` if the file is not an intact SQLite database of this schema,
 * `AUDIT_STORE_MISMATCH` if it belongs to another deployment.
 * @example
 * const store = openAuditStore(".qrsettle/audit-31337.sqlite", deployment);
 */
export function openAuditStore(file: string, deployment: AuditedDeployment): AuditStore {
  let db: DatabaseSync;
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  try {
    db = new DatabaseSync(file);
    const check = db.prepare("PRAGMA quick_check").get();
    if (check?.quick_check !== "ok") throw new Error(String(check?.quick_check));
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    db.exec(SCHEMA);
  } catch (cause) {
    throw new AuditError("AUDIT_STORE_CORRUPT", "The audit store is not an intact SQLite database.", {
      details: { file, hint: "delete it to index again from the chain" },
      cause,
    });
  }
  const expected: Record<string, string> = {
    schemaVersion: SCHEMA_VERSION,
    chainId: String(deployment.chainId),
    registry: deployment.registry.toLowerCase(),
    ledger: deployment.ledger.toLowerCase(),
    fx: deployment.fx.toLowerCase(),
  };
  const stored = new Map(
    db
      .prepare("SELECT key, value FROM meta")
      .all()
      .map((row) => [row.key as string, row.value as string]),
  );
  if (stored.size === 0) {
    const insert = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    for (const [key, value] of Object.entries(expected)) insert.run(key, value);
  } else {
    for (const [key, value] of Object.entries(expected)) {
      if (stored.get(key) !== value) {
        db.close();
        throw new AuditError("AUDIT_STORE_MISMATCH", "The audit store was written for another deployment.", {
          details: { file, field: key, store: stored.get(key) ?? "(missing)", deployment: value },
        });
      }
    }
  }
  return new AuditStore(db);
}
