/** A row as a SQL driver returns it; the store's mappers convert each column. */
export type Row = Record<string, unknown>;

/** Runs statements. SQL is written with PostgreSQL's `$1` placeholders; the SQLite adapter rewrites them. */
export interface SqlExecutor {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * What the store needs from a SQL database, implemented for SQLite (`node:sqlite`) and PostgreSQL (`pg`), so
 * that the store's logic is written once.
 */
export interface SqlDatabase extends SqlExecutor {
  readonly dialect: "sqlite" | "postgres";
  /** `column IN (…)` with the list bound as parameter `$n` (see `listParam`) of text or integers. */
  inList(column: string, n: number, type?: "text" | "bigint"): string;
  /** The parameter value of a list for `inList` and `listTable`. */
  listParam(values: readonly (string | number)[]): unknown;
  /** A table `v (value, pos)` of the list bound as parameter `$n`, `pos` counting from 0, for `UPDATE … FROM`. */
  listTable(n: number): string;
  /** Creates the tables if they do not exist. */
  migrate(): Promise<void>;
  /** Runs `fn` in a transaction; commits before the returned promise resolves, rolls back if `fn` throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Selects up to `limit` rows (each with an `id` column) that no other claim holds — PostgreSQL's
   * `FOR UPDATE SKIP LOCKED`, SQLite's single process keeps a set — runs `prepare` on them (it may do I/O),
   * then `write` in a transaction that commits atomically with the claim.
   */
  claim<P, T>(
    select: { sql: string; params: readonly unknown[]; limit: number },
    prepare: (rows: Row[]) => Promise<P>,
    write: (plan: P, tx: SqlExecutor) => Promise<T>,
  ): Promise<T>;
  /**
   * Reserves `count` consecutive change-feed positions within `tx` and returns the first. Positions only grow,
   * and in commit order (a later commit never gets a smaller position than one already visible).
   */
  nextSeq(tx: SqlExecutor, count: number): Promise<number>;
  /** Within `tx`, waits for exclusive use of `key` across instances until `tx` ends. */
  lockKey(tx: SqlExecutor, key: string): Promise<void>;
  close(): Promise<void>;
}
