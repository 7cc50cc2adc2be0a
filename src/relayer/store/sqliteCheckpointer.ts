/**
 * Worker thread of `openSqliteDatabase`: checkpoints the relayer's SQLite file from a connection of its own,
 * so the copying of the WAL into the database and the fsyncs around it never run on the event loop. PASSIVE
 * checkpoints never wait for, nor hold up, the writer. Posting "stop" closes the connection and ends the worker.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** What the worker is started with. */
export interface CheckpointerOptions {
  path: string;
  intervalMs: number;
}

const { path, intervalMs } = workerData as CheckpointerOptions;
const db = new DatabaseSync(path);
db.exec("PRAGMA synchronous = NORMAL");
const timer = setInterval(() => {
  db.exec("PRAGMA wal_checkpoint(PASSIVE)");
}, intervalMs);
parentPort?.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
