import type { RelayerConfig } from "../config.ts";
import { openPostgresDatabase } from "./postgresDatabase.ts";
import { SqlStore } from "./sqlStore.ts";
import { openSqliteDatabase } from "./sqliteDatabase.ts";
import type { RelayerStore } from "./types.ts";

/**
 * The store the configuration picks: a SQLite file (one instance) or PostgreSQL (instances sharing a queue).
 *
 * @example
 * const store = await createStore(config.store, new Set(["wallet-app"]));
 * await store.init({ chainId: config.chain.chainId, ledger: config.chain.ledger });
 */
export async function createStore(
  config: RelayerConfig["store"],
  webhookClients: ReadonlySet<string>,
): Promise<RelayerStore> {
  const database =
    config.kind === "postgres"
      ? await openPostgresDatabase(
          config.postgresUrl as string,
          config.postgresSchema,
          config.postgresPoolSize,
        )
      : openSqliteDatabase(config.sqlitePath, config.sqliteSynchronous, {
          commitIntervalMs: config.sqliteCommitIntervalMs,
        });
  return new SqlStore(database, webhookClients);
}
