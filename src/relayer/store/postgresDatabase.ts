import pg from "pg";

import { MIGRATED_TABLES, schemaStatements, type MigratedTable } from "./schema.ts";
import type { Row, SqlDatabase, SqlExecutor } from "./sqlDatabase.ts";

/** Any constant: the advisory lock that keeps concurrent instances from creating the tables twice. */
const MIGRATION_LOCK = 0x51525365;

function executorOf(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    all: async (sql, params = []) => (await client.query(sql, params as unknown[])).rows as Row[],
    run: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
  };
}

/**
 * PostgreSQL through `pg`, for several relayer instances sharing one queue: claims use
 * `FOR UPDATE SKIP LOCKED`, so two instances never take the same payment, and admissions of one signer are
 * serialized across instances with a transaction-scoped advisory lock. Tables live in `schema`.
 *
 * @example
 * const db = await openPostgresDatabase("postgres://postgres@127.0.0.1/test", "qrsettle_relayer", 10);
 * await db.migrate();
 */
export async function openPostgresDatabase(
  url: string,
  schema: string,
  poolSize: number,
): Promise<SqlDatabase> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  try {
    await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await setup.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: `-c search_path=${schema}` });
  // An idle client's connection error would otherwise be an unhandled 'error' event; the next query reports it.
  pool.on("error", () => undefined);

  const transaction = async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(executorOf(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  return {
    dialect: "postgres",
    ...executorOf(pool),
    inList: (column, n, type = "text") => `${column} = ANY($${n}::${type}[])`,
    listParam: (values) => [...values],
    listTable: (n) =>
      `(SELECT value, ord - 1 AS pos FROM unnest($${n}::text[]) WITH ORDINALITY AS u (value, ord)) AS v`,
    async migrate() {
      await transaction(async (tx) => {
        await tx.all(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
        const existing = new Map<MigratedTable, Set<string>>(
          MIGRATED_TABLES.map((table) => [table, new Set()]),
        );
        const columns = await tx.all(
          "SELECT table_name AS table, column_name AS name FROM information_schema.columns " +
            "WHERE table_schema = current_schema()",
        );
        for (const column of columns) existing.get(column.table as MigratedTable)?.add(String(column.name));
        for (const statement of schemaStatements("postgres", existing)) await tx.run(statement);
      });
    },
    transaction,
    claim: (select, prepare, write) =>
      transaction(async (tx) => {
        const rows = await tx.all(
          `${select.sql} LIMIT ${select.limit} FOR UPDATE SKIP LOCKED`,
          select.params,
        );
        return write(await prepare(rows), tx);
      }),
    async nextSeq(tx, count) {
      // The counter row's lock is held until commit, so positions are handed out in commit order.
      const [row] = await tx.all(
        "UPDATE counters SET value = value + $1 WHERE name = 'seq' RETURNING value",
        [count],
      );
      return Number(row?.value) - count + 1;
    },
    async lockKey(tx, key) {
      await tx.all("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
    },
    close: () => pool.end(),
  };
}
