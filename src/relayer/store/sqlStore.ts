import type { Address, Hex } from "viem";

import { RelayerError } from "../errors.ts";
import { requestView } from "../requestView.ts";
import type { Row, SqlDatabase, SqlExecutor } from "./sqlDatabase.ts";
import type {
  AdmissionLimits,
  ChainFigure,
  AdmitResult,
  BatchPlan,
  Inclusion,
  NewAttempt,
  NewRequest,
  RelayerStore,
  RequestOutcome,
  RequestKind,
  RequestPage,
  RequestStatus,
  StoredAttempt,
  StoredRequest,
  StoredTransaction,
  TransactionFinal,
  WebhookDelivery,
} from "./types.ts";

const LIVE = "('accepted', 'submitted')";
const COLUMNS = [
  "id",
  "kind",
  "signer",
  "currency",
  "nonce",
  "amount",
  "deadline",
  "payment_id",
  "body",
  "client",
  "status",
  "reason",
  "tx_id",
  "tx_hash",
  "block_number",
  "attempts",
  "accepted_at",
  "updated_at",
  "final_at",
  "seq",
];
/** Request columns, unqualified: in `RETURNING` after `UPDATE … FROM`, both dialects take them from `requests`. */
const RETURNED = COLUMNS.join(", ");
const REQUEST_COLUMNS = COLUMNS.map((column) => `r.${column}`).join(", ");
/** A request with the transaction carrying it: the mined attempt once included, else the newest attempt. */
const REQUEST_WITH_TX =
  `SELECT ${REQUEST_COLUMNS}, t.block_number AS tx_block, COALESCE(r.tx_hash, t.included_hash, ` +
  "(SELECT a.hash FROM attempts a WHERE a.tx_id = r.tx_id ORDER BY a.created_at DESC, a.hash LIMIT 1)) AS any_hash " +
  "FROM requests r LEFT JOIN transactions t ON t.id = r.tx_id";

/** Queued requests with the block their transaction is included in, if it is and settles them there. */
const INCLUDED = "CASE WHEN t.settles_none = 0 THEN t.block_number END AS included";
const QUEUED_COLUMNS = `r.kind, r.amount, r.status, ${INCLUDED}`;
const QUEUED_FROM = "requests r LEFT JOIN transactions t ON t.id = r.tx_id";

/**
 * The total of queued `rows` that `figure` does not hold yet: all of them, less those submitted in a transaction
 * included at or below the block it was read at (and not reverted or cancelled there).
 */
function queuedAgainst(rows: Row[], figure?: ChainFigure): bigint {
  let total = 0n;
  for (const row of rows) {
    const inFigure =
      figure !== undefined &&
      row.status === "submitted" &&
      row.included !== null &&
      Number(row.included) <= figure.block;
    if (!inFigure) total += BigInt(row.amount as string);
  }
  return total;
}

/** A column value that is not SQL NULL. */
type Present = string | number | bigint | boolean | object;
const optional = <T>(value: unknown, convert: (value: Present) => T): T | undefined =>
  value === null || value === undefined ? undefined : convert(value);

function toRequest(row: Row): StoredRequest {
  const request: StoredRequest = {
    id: row.id as Hex,
    kind: row.kind as RequestKind,
    signer: row.signer as Address,
    currency: Number(row.currency),
    nonce: BigInt(row.nonce as string),
    amount: BigInt(row.amount as string),
    deadline: BigInt(row.deadline as string),
    body: row.body as string,
    acceptedAt: Number(row.accepted_at),
    status: row.status as RequestStatus,
    attempts: Number(row.attempts),
    seq: Number(row.seq),
    updatedAt: Number(row.updated_at),
  };
  const paymentId = optional(row.payment_id, (value) => value as Hex);
  if (paymentId !== undefined) request.paymentId = paymentId;
  const client = optional(row.client, String);
  if (client !== undefined) request.client = client;
  const reason = optional(row.reason, String);
  if (reason !== undefined) request.reason = reason;
  const finalAt = optional(row.final_at, Number);
  if (finalAt !== undefined) request.finalAt = finalAt;
  const txHash = (row.any_hash ?? row.tx_hash ?? undefined) as Hex | undefined;
  if (txHash !== undefined) request.txHash = txHash;
  const blockNumber = optional(row.block_number ?? row.tx_block, Number);
  if (blockNumber !== undefined) request.blockNumber = blockNumber;
  return request;
}

/**
 * The relayer's store on a SQL database: SQLite for one instance, PostgreSQL for several sharing a queue. The
 * logic is the same; the adapter supplies locking and group commit.
 *
 * @example
 * const store = new SqlStore(openSqliteDatabase("relayer.db", "full"), new Set(["wallet-app"]));
 * await store.init({ chainId: 31337, ledger });
 */
export class SqlStore implements RelayerStore {
  readonly #db: SqlDatabase;
  readonly #webhookClients: ReadonlySet<string>;

  /** @param webhookClients API clients that receive webhooks; their requests' final statuses are queued. */
  constructor(db: SqlDatabase, webhookClients: ReadonlySet<string>) {
    this.#db = db;
    this.#webhookClients = webhookClients;
  }

  get kind(): "sqlite" | "postgres" {
    return this.#db.dialect;
  }

  async init(binding: { chainId: number; ledger: Address }): Promise<void> {
    await this.#db.migrate();
    const expected = { chainId: String(binding.chainId), ledger: binding.ledger.toLowerCase() };
    await this.#db.transaction(async (tx) => {
      for (const [key, value] of Object.entries(expected)) {
        await tx.run("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", [key, value]);
        const [row] = await tx.all("SELECT value FROM meta WHERE key = $1", [key]);
        if (row?.value !== value) {
          throw new RelayerError("STORE_OTHER_LEDGER", "The store belongs to another chain or ledger.", {
            details: { key, stored: String(row?.value), configured: value },
          });
        }
      }
    });
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  /** Reserves `count` consecutive change-feed positions and returns the first. */
  #nextSeq(tx: SqlExecutor, count: number): Promise<number> {
    return this.#db.nextSeq(tx, count);
  }

  admit(request: NewRequest, limits: AdmissionLimits): Promise<AdmitResult> {
    const db = this.#db;
    return db.transaction(async (tx): Promise<AdmitResult> => {
      await db.lockKey(tx, `${request.signer}:${request.currency}`);
      // Payers of one quote share its capacity: across instances, one admission at a time checks it.
      if (request.kind === "fx") await db.lockKey(tx, `quote:${request.paymentId}`);
      if ((await tx.all("SELECT 1 FROM requests WHERE id = $1", [request.id])).length > 0) {
        return {
          outcome: "duplicate",
          request: toRequest((await tx.all(`${REQUEST_WITH_TX} WHERE r.id = $1`, [request.id]))[0] as Row),
        };
      }
      const live = await tx.all(
        `SELECT ${QUEUED_COLUMNS} FROM ${QUEUED_FROM} ` +
          `WHERE r.signer = $1 AND r.currency = $2 AND r.status IN ${LIVE}`,
        [request.signer, request.currency],
      );
      const queued = queuedAgainst(live, limits.balance);
      if (limits.balance.value < queued + request.amount) {
        return {
          outcome: "refused",
          code: "INSUFFICIENT_BALANCE",
          message: `Balance ${limits.balance.value} minus ${queued} already queued cannot cover ${request.amount}.`,
        };
      }
      if (request.kind !== "refund" && limits.dailyRemaining !== undefined) {
        const payments = live.filter((row) => row.kind !== "refund");
        const queuedPayments = queuedAgainst(payments, limits.dailyRemaining);
        if (limits.dailyRemaining.value < queuedPayments + request.amount) {
          return {
            outcome: "refused",
            code: "DAILY_LIMIT_EXCEEDED",
            message: `The daily limit allows ${limits.dailyRemaining.value} more today, ${queuedPayments} of it queued.`,
          };
        }
      }
      if (request.kind === "refund" && limits.refundable !== undefined) {
        const queuedRefunds = await this.#queuedRefunds(tx, request.paymentId as Hex, limits.refundable);
        if (limits.refundable.value < queuedRefunds + request.amount) {
          return {
            outcome: "refused",
            code: "REFUND_EXCEEDS_PAYMENT",
            message: `${limits.refundable.value} remains refundable and ${queuedRefunds} is queued.`,
          };
        }
      }
      if (request.kind === "fx" && limits.quoteRemaining !== undefined) {
        const queuedUse = await this.#queuedQuoteUse(tx, request.paymentId as Hex, limits.quoteRemaining);
        if (limits.quoteRemaining.value < queuedUse + (request.quoteAmount ?? 0n)) {
          return {
            outcome: "refused",
            code: "QUOTE_EXHAUSTED",
            message: `The quote can deliver ${limits.quoteRemaining.value} more, ${queuedUse} of it queued.`,
          };
        }
      }
      const seq = await this.#nextSeq(tx, 1);
      // A conflict here is a live request with the same signer nonce (the id was checked above).
      const inserted = await tx.run(
        "INSERT INTO requests (id, kind, signer, currency, nonce, amount, deadline, payment_id, quote_amount, " +
          "body, client, status, accepted_at, updated_at, seq) " +
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $13, $9, $10, 'accepted', $11, $11, $12) ON CONFLICT DO NOTHING",
        [
          request.id,
          request.kind,
          request.signer,
          request.currency,
          request.nonce.toString(),
          request.amount.toString(),
          request.deadline.toString(),
          request.paymentId ?? null,
          request.body,
          request.client ?? null,
          request.acceptedAt,
          seq,
          request.quoteAmount?.toString() ?? null,
        ],
      );
      if (inserted === 0) {
        return {
          outcome: "refused",
          code: "NONCE_IN_QUEUE",
          message: `Nonce ${request.nonce} of ${request.signer} is already taken by a queued request.`,
        };
      }
      return {
        outcome: "accepted",
        request: { ...request, status: "accepted", attempts: 0, seq, updatedAt: request.acceptedAt },
      };
    });
  }

  async #queuedRefunds(tx: SqlExecutor, paymentId: Hex, figure?: ChainFigure): Promise<bigint> {
    const rows = await tx.all(
      `SELECT ${QUEUED_COLUMNS} FROM ${QUEUED_FROM} ` +
        `WHERE r.kind = 'refund' AND r.payment_id = $1 AND r.status IN ${LIVE}`,
      [paymentId],
    );
    return queuedAgainst(rows, figure);
  }

  queuedRefunds(paymentId: Hex): Promise<bigint> {
    return this.#queuedRefunds(this.#db, paymentId);
  }

  async #queuedQuoteUse(tx: SqlExecutor, quoteHash: Hex, figure?: ChainFigure): Promise<bigint> {
    const rows = await tx.all(
      `SELECT r.quote_amount AS amount, r.status, ${INCLUDED} FROM ${QUEUED_FROM} ` +
        `WHERE r.kind = 'fx' AND r.payment_id = $1 AND r.status IN ${LIVE}`,
      [quoteHash],
    );
    return queuedAgainst(rows, figure);
  }

  queuedQuoteUse(quoteHash: Hex): Promise<bigint> {
    return this.#queuedQuoteUse(this.#db, quoteHash);
  }

  async getRequest(id: Hex): Promise<StoredRequest | undefined> {
    const [row] = await this.#db.all(`${REQUEST_WITH_TX} WHERE r.id = $1`, [id]);
    return row === undefined ? undefined : toRequest(row);
  }

  async listRequests(filter: {
    kind: RequestKind;
    status?: RequestStatus;
    since: number;
    limit: number;
  }): Promise<RequestPage> {
    const byStatus = filter.status === undefined ? "" : " AND r.status = $4";
    const params: unknown[] = [filter.kind, filter.since, filter.limit];
    if (filter.status !== undefined) params.push(filter.status);
    const rows = await this.#db.all(
      `${REQUEST_WITH_TX} WHERE r.kind = $1 AND r.seq > $2${byStatus} ORDER BY r.seq LIMIT $3`,
      params,
    );
    const items = rows.map(toRequest);
    return { items, next: items.at(-1)?.seq ?? filter.since };
  }

  async countByStatus(): Promise<Record<RequestStatus, number>> {
    const counts: Record<RequestStatus, number> = {
      accepted: 0,
      submitted: 0,
      settled: 0,
      rejected: 0,
      failed: 0,
    };
    for (const row of await this.#db.all("SELECT status, count(*) AS n FROM requests GROUP BY status")) {
      counts[row.status as RequestStatus] = Number(row.n);
    }
    return counts;
  }

  async queueSummary(
    kind: RequestKind,
    now: number,
    cap: number,
  ): Promise<{ count: number; oldestAcceptedAt?: number }> {
    const [row] = await this.#db.all(
      "SELECT count(*) AS n, min(accepted_at) AS oldest FROM (SELECT accepted_at FROM requests " +
        "WHERE kind = $1 AND status = 'accepted' AND not_before <= $2 ORDER BY seq LIMIT $3) due",
      [kind, now, cap],
    );
    const oldest = optional(row?.oldest, Number);
    return oldest === undefined ? { count: 0 } : { count: Number(row?.n), oldestAcceptedAt: oldest };
  }

  submitBatch(
    options: { kind: RequestKind; limit: number; now: number; instance: string },
    plan: (claimed: StoredRequest[]) => Promise<BatchPlan>,
  ): Promise<{ transactionId?: number; failed: number }> {
    return this.#db.claim(
      {
        // One currency per batch: the oldest due request's.
        sql:
          `SELECT ${REQUEST_COLUMNS} FROM requests r ` +
          "WHERE r.kind = $1 AND r.status = 'accepted' AND r.not_before <= $2 AND r.currency = (" +
          "SELECT currency FROM requests WHERE kind = $1 AND status = 'accepted' AND not_before <= $2 " +
          "ORDER BY seq LIMIT 1) ORDER BY r.seq",
        params: [options.kind, options.now],
        limit: options.limit,
      },
      (rows) => plan(rows.map(toRequest)),
      async (decided, tx) => {
        await this.#fail(tx, decided.fail, options.now);
        const submission = decided.submission;
        if (submission === undefined) return { failed: decided.fail.length };
        const advanced = await tx.run(
          "UPDATE wallets SET next_nonce = $1 WHERE address = $2 AND next_nonce = $3 " +
            "AND lease_owner = $4 AND lease_until > $5",
          [submission.nonce + 1, submission.wallet, submission.nonce, options.instance, options.now],
        );
        if (advanced !== 1) {
          throw new RelayerError("NONCE_CONFLICT", "The wallet's nonce moved or its lease was lost.", {
            details: { wallet: submission.wallet, nonce: submission.nonce },
          });
        }
        const transactionId = await this.#insertTransaction(tx, {
          wallet: submission.wallet,
          nonce: submission.nonce,
          kind: submission.kind,
          currency: submission.currency,
          attempt: submission.attempt,
          now: options.now,
        });
        const seq = await this.#nextSeq(tx, submission.requestIds.length);
        const moved = await tx.run(
          `UPDATE requests SET status = 'submitted', tx_id = $1, updated_at = $2, seq = $3 + v.pos ` +
            `FROM ${this.#db.listTable(4)} WHERE requests.id = v.value AND requests.status = 'accepted'`,
          [transactionId, options.now, seq, this.#db.listParam(submission.requestIds)],
        );
        if (moved !== submission.requestIds.length) {
          throw new RelayerError(
            "CLAIM_LOST",
            "A claimed request changed status while its batch was built.",
            {
              details: { expected: submission.requestIds.length, moved },
            },
          );
        }
        return { transactionId, failed: decided.fail.length };
      },
    );
  }

  async #insertTransaction(
    tx: SqlExecutor,
    fields: {
      wallet: Address;
      nonce: number;
      kind: string;
      currency?: number;
      attempt: NewAttempt;
      now: number;
    },
  ): Promise<number> {
    const [row] = await tx.all(
      "INSERT INTO transactions (wallet, nonce, kind, currency, status, created_at, updated_at) " +
        "VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING id",
      [fields.wallet, fields.nonce, fields.kind, fields.currency ?? null, fields.now],
    );
    const transactionId = Number(row?.id);
    await this.#insertAttempt(tx, transactionId, fields.attempt);
    return transactionId;
  }

  async #insertAttempt(tx: SqlExecutor, transactionId: number, attempt: NewAttempt): Promise<void> {
    await tx.run(
      "INSERT INTO attempts (hash, tx_id, raw, fees, cancel, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
      [
        attempt.hash,
        transactionId,
        attempt.raw,
        JSON.stringify(attempt.fees),
        attempt.cancel ? 1 : 0,
        attempt.createdAt,
      ],
    );
  }

  async requestsOf(transactionId: number): Promise<StoredRequest[]> {
    const rows = await this.#db.all(`SELECT ${REQUEST_COLUMNS} FROM requests r WHERE r.tx_id = $1`, [
      transactionId,
    ]);
    return rows.map(toRequest);
  }

  async ensureWallet(address: Address, chainNonce: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("INSERT INTO wallets (address, next_nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
        address,
        chainNonce,
      ]);
      await tx.run("UPDATE wallets SET next_nonce = $2 WHERE address = $1 AND next_nonce < $2", [
        address,
        chainNonce,
      ]);
    });
  }

  async leaseWallet(address: Address, instance: string, until: number, now: number): Promise<boolean> {
    const changed = await this.#db.transaction((tx) =>
      tx.run(
        "UPDATE wallets SET lease_owner = $2, lease_until = $3 " +
          "WHERE address = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $4)",
        [address, instance, until, now],
      ),
    );
    return changed === 1;
  }

  async releaseWallet(address: Address, instance: string): Promise<void> {
    await this.#db.transaction((tx) =>
      tx.run(
        "UPDATE wallets SET lease_owner = NULL, lease_until = 0 WHERE address = $1 AND lease_owner = $2",
        [address, instance],
      ),
    );
  }

  async nextNonce(address: Address): Promise<number> {
    const [row] = await this.#db.all("SELECT next_nonce FROM wallets WHERE address = $1", [address]);
    if (row === undefined)
      throw new RelayerError("UNKNOWN_WALLET", "The wallet is not in the store.", { details: { address } });
    return Number(row.next_nonce);
  }

  async walletStates(): Promise<
    { address: Address; nextNonce: number; leaseOwner?: string; leaseUntil: number }[]
  > {
    const rows = await this.#db.all(
      "SELECT address, next_nonce, lease_owner, lease_until FROM wallets ORDER BY address",
    );
    return rows.map((row) => ({
      address: row.address as Address,
      nextNonce: Number(row.next_nonce),
      ...(row.lease_owner === null || row.lease_owner === undefined
        ? {}
        : { leaseOwner: row.lease_owner as string }),
      leaseUntil: Number(row.lease_until),
    }));
  }

  async raiseNextNonce(address: Address, nonce: number): Promise<void> {
    await this.#db.transaction((tx) =>
      tx.run("UPDATE wallets SET next_nonce = $2 WHERE address = $1 AND next_nonce < $2", [address, nonce]),
    );
  }

  async transactionNonces(wallet: Address, fromNonce: number): Promise<number[]> {
    const rows = await this.#db.all(
      "SELECT nonce FROM transactions WHERE wallet = $1 AND nonce >= $2 ORDER BY nonce",
      [wallet, fromNonce],
    );
    return rows.map((row) => Number(row.nonce));
  }

  recordNoop(wallet: Address, nonce: number, attempt: NewAttempt): Promise<number> {
    return this.#db.transaction((tx) =>
      this.#insertTransaction(tx, { wallet, nonce, kind: "noop", attempt, now: attempt.createdAt }),
    );
  }

  async openTransactions(wallets: readonly Address[]): Promise<StoredTransaction[]> {
    if (wallets.length === 0) return [];
    const db = this.#db;
    const rows = await db.all(
      `SELECT * FROM transactions WHERE ${db.inList("wallet", 1)} AND status IN ('pending', 'included') ` +
        "ORDER BY wallet, nonce",
      [db.listParam(wallets)],
    );
    if (rows.length === 0) return [];
    const attemptRows = await db.all(
      `SELECT hash, tx_id, fees, cancel, created_at, broadcast_at FROM attempts WHERE ${db.inList("tx_id", 1, "bigint")} ` +
        "ORDER BY created_at, hash",
      [db.listParam(rows.map((row) => Number(row.id)))],
    );
    const attempts = new Map<number, StoredAttempt[]>();
    for (const row of attemptRows) {
      const attempt: StoredAttempt = {
        hash: row.hash as Hex,
        fees: JSON.parse(row.fees as string) as StoredAttempt["fees"],
        cancel: Number(row.cancel) === 1,
        createdAt: Number(row.created_at),
      };
      const broadcastAt = optional(row.broadcast_at, Number);
      if (broadcastAt !== undefined) attempt.broadcastAt = broadcastAt;
      const list = attempts.get(Number(row.tx_id)) ?? [];
      list.push(attempt);
      attempts.set(Number(row.tx_id), list);
    }
    return rows.map((row) => {
      const transaction: StoredTransaction = {
        id: Number(row.id),
        wallet: row.wallet as Address,
        nonce: Number(row.nonce),
        kind: row.kind as StoredTransaction["kind"],
        status: row.status as StoredTransaction["status"],
        createdAt: Number(row.created_at),
        attempts: attempts.get(Number(row.id)) ?? [],
      };
      const currency = optional(row.currency, Number);
      if (currency !== undefined) transaction.currency = currency;
      if (row.included_hash !== null && row.included_hash !== undefined) {
        transaction.inclusion = {
          hash: row.included_hash as Hex,
          blockNumber: Number(row.block_number),
          blockHash: row.block_hash as Hex,
        };
      }
      return transaction;
    });
  }

  async rawOf(hash: Hex): Promise<Hex | undefined> {
    const [row] = await this.#db.all("SELECT raw FROM attempts WHERE hash = $1", [hash]);
    return row?.raw as Hex | undefined;
  }

  async addAttempt(transactionId: number, attempt: NewAttempt): Promise<void> {
    await this.#db.transaction((tx) => this.#insertAttempt(tx, transactionId, attempt));
  }

  async markBroadcast(hash: Hex, at: number): Promise<void> {
    await this.#db.transaction((tx) =>
      tx.run("UPDATE attempts SET broadcast_at = $2 WHERE hash = $1", [hash, at]),
    );
  }

  async markIncluded(transactionId: number, inclusion: Inclusion, settlesNone = false): Promise<void> {
    await this.#db.transaction((tx) =>
      tx.run(
        "UPDATE transactions SET status = 'included', included_hash = $2, block_number = $3, block_hash = $4, " +
          "updated_at = $5, settles_none = $6 WHERE id = $1 AND status IN ('pending', 'included')",
        [
          transactionId,
          inclusion.hash,
          inclusion.blockNumber,
          inclusion.blockHash,
          Date.now(),
          settlesNone ? 1 : 0,
        ],
      ),
    );
  }

  async markReorged(transactionId: number): Promise<void> {
    await this.#db.transaction((tx) =>
      tx.run(
        "UPDATE transactions SET status = 'pending', included_hash = NULL, block_number = NULL, block_hash = NULL, " +
          "settles_none = 0, updated_at = $2 WHERE id = $1 AND status = 'included'",
        [transactionId, Date.now()],
      ),
    );
  }

  finalizeTransaction(transactionId: number, final: TransactionFinal): Promise<StoredRequest[]> {
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      const ended = await tx.run(
        "UPDATE transactions SET status = $2, included_hash = $3, block_number = $4, block_hash = $5, updated_at = $6 " +
          "WHERE id = $1 AND status IN ('pending', 'included')",
        [
          transactionId,
          final.status,
          final.inclusion?.hash ?? null,
          final.inclusion?.blockNumber ?? null,
          final.inclusion?.blockHash ?? null,
          now,
        ],
      );
      if (ended !== 1) return [];
      const finalized: Row[] = [];
      // One statement per distinct (status, reason, transaction): a batch has a handful. In these updates the
      // unary `+` keeps `tx_id` off its index, so the planner walks the id list and looks each row up by id;
      // through the index SQLite scanned the whole list once per row of the batch (quadratic in its size).
      const groups = new Map<string, { outcome: RequestOutcome; ids: Hex[] }>();
      for (const outcome of final.outcomes) {
        const key = `${outcome.status}:${outcome.reason ?? ""}:${outcome.settledIn?.hash ?? ""}`;
        const group = groups.get(key) ?? { outcome, ids: [] };
        group.ids.push(outcome.id);
        groups.set(key, group);
      }
      for (const { outcome, ids } of groups.values()) {
        const where = outcome.settledIn ?? final.inclusion;
        const seq = await this.#nextSeq(tx, ids.length);
        finalized.push(
          ...(await tx.all(
            "UPDATE requests SET status = $1, reason = $2, tx_hash = $3, block_number = $4, final_at = $5, " +
              `updated_at = $5, seq = $6 + v.pos FROM ${this.#db.listTable(7)} ` +
              `WHERE requests.id = v.value AND +requests.tx_id = $8 AND requests.status = 'submitted' ` +
              `RETURNING ${RETURNED}`,
            [
              outcome.status,
              outcome.reason ?? null,
              where?.hash ?? null,
              where?.blockNumber ?? null,
              now,
              seq,
              this.#db.listParam(ids),
              transactionId,
            ],
          )),
        );
      }
      if (final.requeue.length > 0) {
        const seq = await this.#nextSeq(tx, final.requeue.length);
        await tx.run(
          "UPDATE requests SET status = 'accepted', tx_id = NULL, attempts = attempts + 1, not_before = $1, " +
            `updated_at = $2, seq = $3 + v.pos FROM ${this.#db.listTable(4)} ` +
            "WHERE requests.id = v.value AND +requests.tx_id = $5 AND requests.status = 'submitted'",
          [final.notBefore, now, seq, this.#db.listParam(final.requeue), transactionId],
        );
      }
      finalized.push(...(await this.#fail(tx, final.fail, now, transactionId)));
      await this.#queueWebhooks(tx, finalized.map(toRequest), now);
      return finalized.map(toRequest);
    });
  }

  /** Fails requests still `accepted` (or `submitted` in `transactionId`); returns the rows it changed. */
  async #fail(
    tx: SqlExecutor,
    failures: { id: Hex; reason: string }[],
    now: number,
    transactionId?: number,
  ): Promise<Row[]> {
    const changed: Row[] = [];
    for (const { id, reason } of failures) {
      const seq = await this.#nextSeq(tx, 1);
      changed.push(
        ...(await tx.all(
          "UPDATE requests SET status = 'failed', reason = $2, final_at = $3, updated_at = $3, seq = $4 " +
            `WHERE id = $1 AND (status = 'accepted' OR (status = 'submitted' AND tx_id = $5)) RETURNING ${RETURNED}`,
          [id, reason, now, seq, transactionId ?? -1],
        )),
      );
    }
    return changed;
  }

  async failRequests(failures: { id: Hex; reason: string }[], now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const changed = await this.#fail(tx, failures, now);
      await this.#queueWebhooks(tx, changed.map(toRequest), now);
    });
  }

  async #queueWebhooks(tx: SqlExecutor, requests: StoredRequest[], now: number): Promise<void> {
    for (const request of requests) {
      if (request.client === undefined || !this.#webhookClients.has(request.client)) continue;
      const payload = JSON.stringify({ event: `${request.kind}.final`, ...requestView(request) });
      await tx.run(
        "INSERT INTO webhook_deliveries (request_id, client, payload, status, next_attempt_at, created_at) " +
          "VALUES ($1, $2, $3, 'pending', $4, $4)",
        [request.id, request.client, payload, now],
      );
    }
  }

  claimWebhooks(now: number, limit: number, leaseUntil: number): Promise<WebhookDelivery[]> {
    return this.#db.claim(
      {
        sql:
          "SELECT id, request_id, client, payload, attempts FROM webhook_deliveries " +
          "WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at",
        params: [now],
        limit,
      },
      (rows) => Promise.resolve(rows),
      async (rows, tx) => {
        if (rows.length > 0) {
          await tx.run(
            `UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE ${this.#db.inList("id", 2, "bigint")}`,
            [leaseUntil, this.#db.listParam(rows.map((row) => Number(row.id)))],
          );
        }
        return rows.map((row) => ({
          id: Number(row.id),
          requestId: row.request_id as Hex,
          client: row.client as string,
          payload: row.payload as string,
          attempts: Number(row.attempts),
        }));
      },
    );
  }

  async completeWebhook(
    id: number,
    result: { delivered: true } | { delivered: false; retryAt?: number; error: string },
  ): Promise<void> {
    await this.#db.transaction((tx) => {
      if (result.delivered) {
        return tx.run(
          "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1 WHERE id = $1",
          [id],
        );
      }
      return tx.run(
        "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4 " +
          "WHERE id = $1",
        [
          id,
          result.retryAt === undefined ? "failed" : "pending",
          result.retryAt ?? 0,
          result.error.slice(0, 500),
        ],
      );
    });
  }
}
