import { fsync, openSync, closeSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";

import { Mutex } from "../mutex.ts";
import type { CheckpointerOptions } from "./sqliteCheckpointer.ts";
import { MIGRATED_TABLES, schemaStatements, type MigratedTable } from "./schema.ts";
import type { Row, SqlDatabase, SqlExecutor } from "./sqlDatabase.ts";

/** When a SQLite store commits and checkpoints. */
export interface SqliteTiming {
  /** Commits come at most this often (0: on every turn of the event loop that wrote). */
  commitIntervalMs?: number;
  /** The checkpointer copies the WAL into the database file this often. */
  checkpointIntervalMs?: number;
}

/**
 * SQLite through `node:sqlite`, in WAL mode, with group commit: every transaction runs in a savepoint of one
 * shared database transaction that commits on the next turn of the event loop — or, when the last commit was
 * less than `commitIntervalMs` ago, once that much time has passed — and each caller's promise resolves only
 * after that commit is durable. Under load one commit covers many payments. Each commit writes every page it
 * touched (the table's and each index's) to the WAL and is fsync'ed, so fewer, larger commits are cheaper per
 * request: at a steady 1,000 payments a second, committing every turn took two payments per commit, and the
 * event loop spent a fifth more time per payment than with a commit at most every 4 ms.
 *
 * Durability: the commit itself writes the WAL without syncing (SQLite's `synchronous = NORMAL`, which already
 * survives a process crash). With `full`, the WAL file is then fsync'ed on libuv's thread pool before anyone
 * is told the commit happened, so acknowledged data also survives power loss — without the event loop
 * waiting the milliseconds an fsync takes, as SQLite's own `FULL` would.
 *
 * Checkpoints (copying the WAL into the database file, with an fsync of each) run every `checkpointIntervalMs`
 * on a worker thread with its own connection (`sqliteCheckpointer.ts`): left to SQLite, every ~4 MB of WAL one
 * commit would do it on the event loop, and hold every request for tens of milliseconds. Should the worker die,
 * the writer checkpoints itself again.
 *
 * Transactions are serialized, and since `node:sqlite` is synchronous a transaction body must not wait on I/O
 * (the store never does).
 *
 * @example
 * const db = openSqliteDatabase("relayer.db", "full", { commitIntervalMs: 4 });
 * await db.migrate();
 */
export function openSqliteDatabase(
  path: string,
  synchronous: "full" | "normal",
  { commitIntervalMs = 0, checkpointIntervalMs = 1_000 }: SqliteTiming = {},
): SqlDatabase {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  const inMemory = path === ":memory:" || path === "";
  let checkpointer: Worker | undefined;
  if (!inMemory) {
    checkpointer = new Worker(new URL("./sqliteCheckpointer.ts", import.meta.url), {
      workerData: { path, intervalMs: checkpointIntervalMs } satisfies CheckpointerOptions,
    });
    checkpointer.unref();
    db.exec("PRAGMA wal_autocheckpoint = 0");
    checkpointer.once("error", () => {
      checkpointer = undefined;
      if (db.isOpen) db.exec("PRAGMA wal_autocheckpoint = 1000");
    });
  }
  let walFile: number | undefined;
  /** Resolves once everything committed so far is on disk. */
  const durable = (): Promise<void> => {
    if (synchronous !== "full" || inMemory) return Promise.resolve();
    walFile ??= openSync(`${path}-wal`, "r");
    const file = walFile;
    return new Promise((resolve, reject) => {
      fsync(file, (error) => {
        if (error === null) resolve();
        else reject(error);
      });
    });
  };
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");

  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql.replace(/\$(\d+)/g, "?$1"));
      statements.set(sql, statement);
    }
    return statement;
  };
  const executor: SqlExecutor = {
    all: (sql, params = []) => Promise.resolve(prepare(sql).all(...(params as never[])) as Row[]),
    run: (sql, params = []) => Promise.resolve(Number(prepare(sql).run(...(params as never[])).changes)),
  };

  const units = new Mutex();
  type Group = { committed: Promise<void>; resolve: () => void; reject: (error: unknown) => void };
  let group: Group | undefined;
  let lastCommitAt = Number.NEGATIVE_INFINITY;
  const commitGroup = () => {
    const current = group;
    if (current === undefined) return;
    group = undefined;
    try {
      db.exec("COMMIT");
      lastCommitAt = performance.now();
      durable().then(current.resolve, current.reject);
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      current.reject(error);
    }
  };
  const openGroup = (): Group => {
    db.exec("BEGIN IMMEDIATE");
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const committed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers attach their own handlers; this one keeps an unobserved failure from crashing the process.
    committed.catch(() => undefined);
    const current = { committed, resolve, reject };
    const commit = () => {
      void units.run(() => {
        if (group === current) commitGroup();
      });
    };
    const waitMs = lastCommitAt + commitIntervalMs - performance.now();
    if (waitMs > 0) setTimeout(commit, waitMs);
    else setImmediate(commit);
    return current;
  };

  const claimed = new Set<string>();
  // One process writes a SQLite file, serially: positions are counted in memory, from the highest stored.
  let lastSeq: number | undefined;

  const database: SqlDatabase = {
    dialect: "sqlite",
    ...executor,
    inList: (column, n) => `${column} IN (SELECT value FROM json_each($${n}))`,
    listParam: (values) => JSON.stringify(values),
    listTable: (n) => `(SELECT value, key AS pos FROM json_each($${n})) AS v`,
    migrate: () =>
      database.transaction(async (tx) => {
        const existing = new Map<MigratedTable, Set<string>>();
        for (const table of MIGRATED_TABLES) {
          const columns = await tx.all(`PRAGMA table_info(${table})`);
          existing.set(table, new Set(columns.map((column) => String(column.name))));
        }
        for (const statement of schemaStatements("sqlite", existing)) await tx.run(statement);
      }),
    async transaction(fn) {
      const { result, committed } = await units.run(async () => {
        group ??= openGroup();
        const current = group;
        db.exec("SAVEPOINT unit");
        try {
          const value = await fn(executor);
          db.exec("RELEASE unit");
          return { result: value, committed: current.committed };
        } catch (error) {
          db.exec("ROLLBACK TO unit");
          db.exec("RELEASE unit");
          throw error;
        }
      });
      await committed;
      return result;
    },
    async claim(select, prepareRows, write) {
      // Selected and marked in one synchronous step, so a concurrent claim cannot take the same rows.
      const statement = prepare(`${select.sql} LIMIT $${select.params.length + 1}`);
      const rows = (statement.all(...([...select.params, select.limit + claimed.size] as never[])) as Row[])
        .filter((row) => !claimed.has(String(row.id)))
        .slice(0, select.limit);
      const ids = rows.map((row) => String(row.id));
      ids.forEach((id) => claimed.add(id));
      try {
        const plan = await prepareRows(rows);
        return await database.transaction((tx) => write(plan, tx));
      } finally {
        ids.forEach((id) => claimed.delete(id));
      }
    },
    async nextSeq(tx, count) {
      lastSeq ??= Number((await tx.all("SELECT coalesce(max(seq), 0) AS seq FROM requests"))[0]?.seq ?? 0);
      const first = lastSeq + 1;
      lastSeq += count;
      return first;
    },
    // One process owns a SQLite file and its transactions are serialized: nothing to lock.
    lockKey: () => Promise.resolve(),
    async close() {
      await units.run(commitGroup);
      if (checkpointer !== undefined) {
        const stopped = new Promise((resolve) => checkpointer?.once("exit", resolve));
        // Unreferenced so it never keeps a process alive, but waited for here: referenced until it has gone.
        checkpointer.ref();
        checkpointer.postMessage("stop");
        await stopped;
      }
      db.close();
      if (walFile !== undefined) closeSync(walFile);
    },
  };
  return database;
}
