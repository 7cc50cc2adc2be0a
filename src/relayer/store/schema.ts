/** The tables that have gained columns since they were first created. */
export const MIGRATED_TABLES = ["requests", "transactions"] as const;
export type MigratedTable = (typeof MIGRATED_TABLES)[number];
/** The columns each of those tables has. */
export type ExistingColumns = ReadonlyMap<MigratedTable, ReadonlySet<string>>;

/**
 * The store's tables. Amounts are decimal text (they reach 2^96); nonces, deadlines, block numbers and
 * millisecond timestamps fit 53 bits. `seq` orders every status change for the change feed; PostgreSQL takes it
 * from one counter row, whose lock makes seq order equal commit order across instances (SQLite counts it in
 * memory, having one writer).
 *
 * `existing`: the columns each table has already (none if it does not exist yet), to add the columns added since
 * it was first created, and fill them in.
 */
export function schemaStatements(
  dialect: "sqlite" | "postgres",
  existing: ExistingColumns = new Map(),
): string[] {
  const lacks = (table: MigratedTable, column: string) => {
    const columns = existing.get(table);
    return columns !== undefined && columns.size > 0 && !columns.has(column);
  };
  const id = dialect === "sqlite" ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
  const big = dialect === "sqlite" ? "INTEGER" : "BIGINT";
  const receiveAmount =
    dialect === "sqlite"
      ? "json_extract(body, '$.payment.receiveAmount')"
      : "(body::json #>> '{payment,receiveAmount}')";
  const addQuoteAmount = lacks("requests", "quote_amount")
    ? [
        "ALTER TABLE requests ADD COLUMN quote_amount TEXT",
        `UPDATE requests SET quote_amount = ${receiveAmount} WHERE kind = 'fx'`,
      ]
    : [];
  return [
    `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value ${big} NOT NULL)`,
    `INSERT INTO counters (name, value) VALUES ('seq', 0) ON CONFLICT DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS requests (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      signer TEXT NOT NULL,
      currency INTEGER NOT NULL,
      nonce ${big} NOT NULL,
      amount TEXT NOT NULL,
      deadline ${big} NOT NULL,
      payment_id TEXT,
      quote_amount TEXT,
      body TEXT NOT NULL,
      client TEXT,
      status TEXT NOT NULL,
      reason TEXT,
      tx_id ${big},
      tx_hash TEXT,
      block_number ${big},
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before ${big} NOT NULL DEFAULT 0,
      accepted_at ${big} NOT NULL,
      updated_at ${big} NOT NULL,
      final_at ${big},
      seq ${big} NOT NULL
    )`,
    // One live request per signer nonce: a second payment with the nonce of a queued one is refused. (Once it
    // settled, the ledger's nonce bitmap refuses the nonce; after a rejection or failure it is unused on chain
    // and may be signed again.) The same index finds a signer's queued amounts for the balance check.
    ...addQuoteAmount,
    `CREATE UNIQUE INDEX IF NOT EXISTS requests_live_nonce ON requests (signer, currency, nonce)
      WHERE status IN ('accepted', 'submitted')`,
    // Covers the batcher's queue checks, which run many times a second: no table lookups.
    `CREATE INDEX IF NOT EXISTS requests_queue ON requests (kind, seq, not_before, accepted_at, currency)
      WHERE status = 'accepted'`,
    // Ordered by seq first: the change feed reads it as a range; and a claim, which filters by kind, is left with
    // the partial queue index (a (kind, seq) index would tempt SQLite's planner to scan every settled row).
    `CREATE INDEX IF NOT EXISTS requests_feed ON requests (seq, kind)`,
    `CREATE INDEX IF NOT EXISTS requests_tx ON requests (tx_id)`,
    `CREATE INDEX IF NOT EXISTS requests_payment ON requests (payment_id) WHERE payment_id IS NOT NULL`,
    // What the queue holds on each quote, read at every cross-currency intake: from the index alone, live rows
    // only (a quote's settled payments, however many, are not read).
    `CREATE INDEX IF NOT EXISTS requests_quote_live ON requests (payment_id, quote_amount)
      WHERE kind = 'fx' AND status IN ('accepted', 'submitted')`,
    `CREATE TABLE IF NOT EXISTS transactions (
      id ${id},
      wallet TEXT NOT NULL,
      nonce ${big} NOT NULL,
      kind TEXT NOT NULL,
      currency INTEGER,
      status TEXT NOT NULL,
      included_hash TEXT,
      block_number ${big},
      block_hash TEXT,
      created_at ${big} NOT NULL,
      updated_at ${big} NOT NULL,
      settles_none INTEGER NOT NULL DEFAULT 0,
      UNIQUE (wallet, nonce)
    )`,
    ...(lacks("transactions", "settles_none")
      ? ["ALTER TABLE transactions ADD COLUMN settles_none INTEGER NOT NULL DEFAULT 0"]
      : []),
    `CREATE INDEX IF NOT EXISTS transactions_open ON transactions (wallet, nonce)
      WHERE status IN ('pending', 'included')`,
    `CREATE TABLE IF NOT EXISTS attempts (
      hash TEXT PRIMARY KEY,
      tx_id ${big} NOT NULL REFERENCES transactions (id),
      raw TEXT NOT NULL,
      fees TEXT NOT NULL,
      cancel INTEGER NOT NULL,
      created_at ${big} NOT NULL,
      broadcast_at ${big}
    )`,
    `CREATE INDEX IF NOT EXISTS attempts_tx ON attempts (tx_id)`,
    `CREATE TABLE IF NOT EXISTS wallets (
      address TEXT PRIMARY KEY,
      next_nonce ${big} NOT NULL,
      lease_owner TEXT,
      lease_until ${big} NOT NULL DEFAULT 0
    )`,
    `CREATE TABLE IF NOT EXISTS webhook_deliveries (
      id ${id},
      request_id TEXT NOT NULL,
      client TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at ${big} NOT NULL,
      last_error TEXT,
      created_at ${big} NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
      WHERE status = 'pending'`,
  ];
}
