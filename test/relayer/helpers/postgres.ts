/** PostgreSQL for tests: the server at 127.0.0.1:5432 (trust auth, database `test`), one schema per test run. */
import { randomBytes } from "node:crypto";

import pg from "pg";

/** The test server; `QRSETTLE_TEST_POSTGRES_URL` points elsewhere. */
export const POSTGRES_URL =
  process.env.QRSETTLE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let available: Promise<string | undefined> | undefined;

/** Undefined if the server answers, else why not. */
function probe(): Promise<string | undefined> {
  available ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return available;
}

/**
 * Skips the calling test or hook when PostgreSQL is absent — except under CI (`CI=true`), where its absence
 * fails the test: CI machines run the server and a silent skip would hide a broken setup.
 *
 * @example
 * before(async function () { await requirePostgres(this); });
 */
export async function requirePostgres(context: Mocha.Context): Promise<void> {
  const problem = await probe();
  if (problem === undefined) return;
  if (process.env.CI === "true")
    throw new Error(`PostgreSQL is required under CI but ${POSTGRES_URL} fails: ${problem}`);
  context.skip();
}

/** A schema name no other test run uses. */
export function uniqueSchema(): string {
  return `qrsettle_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
