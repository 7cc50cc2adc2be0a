import { rmSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { Address, Hex } from "viem";

import type { Evidence } from "./findings.ts";

/** A settled payment as the reconciler remembers it, to check refunds and duplicates against. */
export interface IndexedPayment {
  id: Hex;
  payer: Address;
  payee: Address;
  payerBank: number;
  payeeBank: number;
  currency: number;
  amount: bigint;
  refunded: bigint;
  batchRoot: Hex;
  at: Evidence;
}

/** Inserts between commits: large enough to be fast, small enough to keep the journal small. */
const COMMIT_EVERY = 20_000;

/**
 * The settled payments and batch roots seen so far, in a scratch SQLite file rather than in memory: a
 * million payment ids would otherwise be the one thing that grows with history. Deleted on close.
 *
 * @example
 * const index = new PaymentIndex("/tmp/audit-scratch.sqlite");
 * if (!index.addPayment(payment)) console.log("settled twice:", index.payment(payment.id)?.at);
 * index.close();
 */
export class PaymentIndex {
  readonly #file: string;
  readonly #db: DatabaseSync;
  readonly #insertPayment: StatementSync;
  readonly #selectPayment: StatementSync;
  readonly #addRefund: StatementSync;
  readonly #insertRoot: StatementSync;
  readonly #selectRoot: StatementSync;
  #uncommitted = 0;

  constructor(file: string) {
    this.#file = file;
    rmSync(file, { force: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec(`
      PRAGMA journal_mode = OFF;
      PRAGMA synchronous = OFF;
      PRAGMA cache_size = -65536;
      CREATE TABLE payments (
        id TEXT PRIMARY KEY, payer TEXT NOT NULL, payee TEXT NOT NULL, payer_bank INTEGER NOT NULL,
        payee_bank INTEGER NOT NULL, currency INTEGER NOT NULL, amount TEXT NOT NULL, refunded TEXT NOT NULL,
        batch_root TEXT NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL, log_index INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE batch_roots (
        root TEXT PRIMARY KEY, payer_bank INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL,
        log_index INTEGER
      ) WITHOUT ROWID;
      BEGIN;
    `);
    this.#insertPayment = this.#db.prepare(
      "INSERT OR IGNORE INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, '0', ?, ?, ?, ?)",
    );
    this.#selectPayment = this.#db.prepare("SELECT * FROM payments WHERE id = ?");
    this.#addRefund = this.#db.prepare("UPDATE payments SET refunded = ? WHERE id = ?");
    this.#insertRoot = this.#db.prepare("INSERT OR IGNORE INTO batch_roots VALUES (?, ?, ?, ?, ?)");
    this.#selectRoot = this.#db.prepare("SELECT * FROM batch_roots WHERE root = ?");
  }

  /** Remembers a settled payment; returns false if its id was already settled. */
  addPayment(payment: Omit<IndexedPayment, "refunded">): boolean {
    const { changes } = this.#insertPayment.run(
      payment.id,
      payment.payer,
      payment.payee,
      payment.payerBank,
      payment.payeeBank,
      payment.currency,
      payment.amount.toString(),
      payment.batchRoot,
      payment.at.blockNumber,
      payment.at.transactionHash,
      payment.at.logIndex ?? null,
    );
    this.#written();
    return changes === 1;
  }

  /** The settled payment with this id, if any. */
  payment(id: Hex): IndexedPayment | undefined {
    const row = this.#selectPayment.get(id);
    if (row === undefined) return undefined;
    return {
      id: row.id as Hex,
      payer: row.payer as Address,
      payee: row.payee as Address,
      payerBank: row.payer_bank as number,
      payeeBank: row.payee_bank as number,
      currency: row.currency as number,
      amount: BigInt(row.amount as string),
      refunded: BigInt(row.refunded as string),
      batchRoot: row.batch_root as Hex,
      at: evidenceOf(row),
    };
  }

  /** Records a refund against a payment and returns the new refunded total. */
  addRefund(id: Hex, amount: bigint): bigint {
    const total = (this.payment(id)?.refunded ?? 0n) + amount;
    this.#addRefund.run(total.toString(), id);
    this.#written();
    return total;
  }

  /** Remembers a batch root; returns false if the same root was already settled. */
  addBatchRoot(root: Hex, payerBank: number, at: Evidence): boolean {
    const { changes } = this.#insertRoot.run(
      root,
      payerBank,
      at.blockNumber,
      at.transactionHash,
      at.logIndex ?? null,
    );
    this.#written();
    return changes === 1;
  }

  /** The payer bank and evidence of a batch root, if it was settled. */
  batchRoot(root: Hex): { payerBank: number; at: Evidence } | undefined {
    const row = this.#selectRoot.get(root);
    return row === undefined ? undefined : { payerBank: row.payer_bank as number, at: evidenceOf(row) };
  }

  /** Every refunded payment with its refunded total, streamed. */
  *refundedPayments(): Generator<{ id: Hex; refunded: bigint; at: Evidence }> {
    this.#commit();
    const rows = this.#db.prepare(
      "SELECT id, refunded, block_number, tx_hash, log_index FROM payments WHERE refunded != '0'",
    );
    for (const row of rows.iterate()) {
      yield { id: row.id as Hex, refunded: BigInt(row.refunded as string), at: evidenceOf(row) };
    }
  }

  /** Every batch root with its payer bank, streamed. */
  *batchRoots(): Generator<{ root: Hex; payerBank: number; at: Evidence }> {
    this.#commit();
    for (const row of this.#db.prepare("SELECT * FROM batch_roots").iterate()) {
      yield { root: row.root as Hex, payerBank: row.payer_bank as number, at: evidenceOf(row) };
    }
  }

  /** Closes and deletes the scratch file. */
  close(): void {
    this.#db.close();
    rmSync(this.#file, { force: true });
  }

  #written(): void {
    if (++this.#uncommitted >= COMMIT_EVERY) this.#commit();
  }

  #commit(): void {
    this.#db.exec("COMMIT; BEGIN;");
    this.#uncommitted = 0;
  }
}

function evidenceOf(row: Record<string, unknown>): Evidence {
  const evidence: Evidence = {
    blockNumber: row.block_number as number,
    transactionHash: row.tx_hash as Hex,
  };
  if (row.log_index !== null) evidence.logIndex = row.log_index as number;
  return evidence;
}
