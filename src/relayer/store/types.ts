import type { Address, Hex } from "viem";

import type { ApiErrorCode } from "../api/errorCodes.ts";

/**
 * What a queued item is: a customer's payment (`settlePayments`), a merchant's refund (`refundPayments`) or a
 * customer's cross-currency payment (`FxSettlement.settleFxPayments`).
 */
export type RequestKind = "payment" | "refund" | "fx";
/** Every kind of request. */
export const REQUEST_KINDS: readonly RequestKind[] = ["payment", "refund", "fx"];

/**
 * Lifecycle of a payment or refund. `accepted`: stored, waiting for a batch. `submitted`: in a signed batch
 * transaction. Final: `settled` (event at the configured depth), `rejected` (the ledger skipped it, with its
 * reason) or `failed` (it can no longer settle, e.g. its deadline passed before it could be sent).
 */
export type RequestStatus = "accepted" | "submitted" | "settled" | "rejected" | "failed";

/** Statuses after which nothing changes. */
export const FINAL_STATUSES: readonly RequestStatus[] = ["settled", "rejected", "failed"];

/** A validated payment or refund, as stored before `202` is answered. */
export interface NewRequest {
  /** Payment id or refund id: the EIP-712 digest. */
  id: Hex;
  kind: RequestKind;
  /** Whoever is debited and signed: the payer of a payment, the payee of a refund. Lower case. For `fx`,
   * `currency` and `amount` are the payer's side (`payCurrency`, `payAmount`). */
  signer: Address;
  currency: number;
  nonce: bigint;
  amount: bigint;
  deadline: bigint;
  /** For refunds: the refunded payment's id. For cross-currency payments: the quote's struct hash. */
  paymentId?: Hex;
  /** For cross-currency payments: what it takes of its quote's capacity (`receiveAmount`). */
  quoteAmount?: bigint;
  /** Everything needed to put it into a batch (wire form, signature, proof), as JSON. */
  body: string;
  /** The API client that sent it, for webhooks. */
  client?: string;
  /** Milliseconds since the epoch. */
  acceptedAt: number;
}

/** A stored payment or refund with its current status. */
export interface StoredRequest extends NewRequest {
  status: RequestStatus;
  /** Why it was rejected or failed (a `RejectReason` name or the relayer's reason). */
  reason?: string;
  /** Batches it was in whose transaction reverted or was dropped. */
  attempts: number;
  /** Position in the change feed (`GET /v1/payments?since=`). */
  seq: number;
  updatedAt: number;
  finalAt?: number;
  /** The transaction that carries (or carried) it: its hash, and its block once included. */
  txHash?: Hex;
  blockNumber?: number;
}

/**
 * A figure read from the chain, with the block it was read at. A queued request whose transaction is included at
 * or below that block is in the figure already, so the admission checks count only the queued requests that are
 * not: a payment mined but not yet final is counted once, not twice.
 */
export interface ChainFigure {
  value: bigint;
  block: number;
}

/** What the ledger says about the signer, for the admission checks that depend on the queue. */
export interface AdmissionLimits {
  /** The signer's balance on chain. */
  balance: ChainFigure;
  /** What the signer's daily limit still allows today, if it has one (payments only). */
  dailyRemaining?: ChainFigure;
  /** For refunds: the payment's amount minus what the ledger has refunded already. */
  refundable?: ChainFigure;
  /** For cross-currency payments: the quote's maximum minus what the FX contract has metered already. */
  quoteRemaining?: ChainFigure;
}

/** The result of `admit`. */
export type AdmitResult =
  | { outcome: "accepted"; request: StoredRequest }
  | { outcome: "duplicate"; request: StoredRequest }
  | { outcome: "refused"; code: ApiErrorCode; message: string };

/** Fee fields of one signed attempt, as decimal strings. */
export interface AttemptFees {
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  gasPrice?: string;
}

/** One signed version of a logical transaction: the first, a fee replacement, or a cancellation. */
export interface NewAttempt {
  hash: Hex;
  raw: Hex;
  fees: AttemptFees;
  /** A zero-value self-transfer replacing the transaction, to free its nonce. */
  cancel: boolean;
  createdAt: number;
}

/** A stored attempt; its signed bytes are read on demand with `rawOf`. */
export interface StoredAttempt extends Omit<NewAttempt, "raw"> {
  /** When the attempt was last sent to the node, if ever. */
  broadcastAt?: number;
}

/** What a logical transaction carries. `noop` fills a nonce gap. */
export type TransactionKind = RequestKind | "noop";

/** A logical transaction: one wallet nonce, one payload, one or more signed attempts. */
export interface StoredTransaction {
  id: number;
  wallet: Address;
  nonce: number;
  kind: TransactionKind;
  currency?: number;
  status: "pending" | "included";
  /** Set while included: which attempt, in which block. */
  inclusion?: Inclusion;
  createdAt: number;
  /** Oldest first. */
  attempts: StoredAttempt[];
}

/** Where a transaction was mined. */
export interface Inclusion {
  hash: Hex;
  blockNumber: number;
  blockHash: Hex;
}

/** A batch to record: the transaction with its first attempt, and the requests it carries. */
export interface BatchSubmission {
  wallet: Address;
  nonce: number;
  kind: RequestKind;
  currency: number;
  attempt: NewAttempt;
  requestIds: Hex[];
}

/** What `submitBatch`'s planner decided about the requests it was given. */
export interface BatchPlan {
  /** The transaction to record, or undefined if nothing is to be sent now. */
  submission?: BatchSubmission;
  /** Requests that can never settle (e.g. expired), with the reason. */
  fail: { id: Hex; reason: string }[];
}

/** The final outcome of one request carried by a transaction. */
export interface RequestOutcome {
  id: Hex;
  status: "settled" | "rejected";
  reason?: string;
  /** Where it settled, when that was another transaction than the one being finalized. */
  settledIn?: { hash: Hex; blockNumber: number };
}

/** How a logical transaction ended. */
export interface TransactionFinal {
  /** `confirmed`: mined and deep enough. `reverted`: mined, but undid everything. `dropped`: its nonce was
   * taken by a transaction that is not one of its attempts. */
  status: "confirmed" | "reverted" | "dropped";
  inclusion?: Inclusion;
  outcomes: RequestOutcome[];
  /** Requests to put back in the queue (not before `notBefore`), e.g. after a revert. */
  requeue: Hex[];
  /** Requests that can no longer settle. */
  fail: { id: Hex; reason: string }[];
  notBefore: number;
}

/** A webhook to deliver. */
export interface WebhookDelivery {
  id: number;
  requestId: Hex;
  client: string;
  payload: string;
  attempts: number;
}

/** A page of the change feed. */
export interface RequestPage {
  items: StoredRequest[];
  /** Pass as `since` to continue. */
  next: number;
}

/**
 * The relayer's durable state: the queue of payments and refunds, the transactions that carry them with every
 * signed attempt, wallet nonces and leases, and the webhook outbox. Every method that changes state commits
 * before its promise resolves, so a caller may answer a client or broadcast only afterwards.
 */
export interface RelayerStore {
  readonly kind: "sqlite" | "postgres";
  /** Creates the tables if needed and checks the store belongs to this chain and ledger. */
  init(binding: { chainId: number; ledger: Address }): Promise<void>;
  close(): Promise<void>;

  /** Stores a request unless its nonce is taken or the queue already spends what the limits allow. */
  admit(request: NewRequest, limits: AdmissionLimits): Promise<AdmitResult>;
  getRequest(id: Hex): Promise<StoredRequest | undefined>;
  /** The change feed: requests whose status changed after `since`, oldest change first. */
  listRequests(filter: {
    kind: RequestKind;
    status?: RequestStatus;
    since: number;
    limit: number;
  }): Promise<RequestPage>;
  countByStatus(): Promise<Record<RequestStatus, number>>;
  /** Total queued (accepted or submitted) refund amounts per payment. */
  queuedRefunds(paymentId: Hex): Promise<bigint>;
  /** Total queued (accepted or submitted) receive amounts of cross-currency payments using a quote. */
  queuedQuoteUse(quoteHash: Hex): Promise<bigint>;

  /** How many requests of `kind` are due (at most `cap`), and when the oldest was accepted. */
  queueSummary(
    kind: RequestKind,
    now: number,
    cap: number,
  ): Promise<{ count: number; oldestAcceptedAt?: number }>;
  /**
   * Claims up to `limit` due requests of `kind` and one currency that no other claim holds, lets `plan` decide
   * (it may sign a transaction), and records the plan atomically: the wallet's nonce advances only if it still
   * equals the submission's nonce and the wallet is still leased to `instance`.
   */
  submitBatch(
    options: { kind: RequestKind; limit: number; now: number; instance: string },
    plan: (claimed: StoredRequest[]) => Promise<BatchPlan>,
  ): Promise<{ transactionId?: number; failed: number }>;
  /** Requests carried by a transaction. */
  requestsOf(transactionId: number): Promise<StoredRequest[]>;

  /** Creates the wallet's row if new, its next nonce at least `chainNonce`. */
  ensureWallet(address: Address, chainNonce: number): Promise<void>;
  /** Leases a wallet to `instance` until `until` if it is free, expired or already `instance`'s. */
  leaseWallet(address: Address, instance: string, until: number, now: number): Promise<boolean>;
  releaseWallet(address: Address, instance: string): Promise<void>;
  /** The wallet's next nonce as the store knows it. */
  nextNonce(address: Address): Promise<number>;
  /** Every wallet the store knows, with its next nonce and lease. */
  walletStates(): Promise<{ address: Address; nextNonce: number; leaseOwner?: string; leaseUntil: number }[]>;
  /** Raises the wallet's next nonce to `nonce` (e.g. the key was used elsewhere). */
  raiseNextNonce(address: Address, nonce: number): Promise<void>;
  /** Nonces from `fromNonce` up that a stored transaction of the wallet holds, whatever its status. */
  transactionNonces(wallet: Address, fromNonce: number): Promise<number[]>;
  /** Records a no-op transaction at a nonce below the wallet's next nonce that no transaction holds. */
  recordNoop(wallet: Address, nonce: number, attempt: NewAttempt): Promise<number>;

  /** Transactions of these wallets that are not final, lowest nonce first, with their attempts. */
  openTransactions(wallets: readonly Address[]): Promise<StoredTransaction[]>;
  /** The signed bytes of an attempt. */
  rawOf(hash: Hex): Promise<Hex | undefined>;
  /** Stores a new attempt (replacement or cancellation) before it is broadcast. */
  addAttempt(transactionId: number, attempt: NewAttempt): Promise<void>;
  markBroadcast(hash: Hex, at: number): Promise<void>;
  /**
   * The transaction is in a block, not yet deep enough to be final. `settlesNone`: it reverted there, or the
   * attempt mined is a cancellation, so its requests are in no figure read at that block (`ChainFigure`).
   */
  markIncluded(transactionId: number, inclusion: Inclusion, settlesNone?: boolean): Promise<void>;
  /** The transaction's block left the canonical chain: pending again. */
  markReorged(transactionId: number): Promise<void>;
  /** Ends a transaction and applies its outcome to its requests, queueing webhooks, in one commit. */
  finalizeTransaction(transactionId: number, final: TransactionFinal): Promise<StoredRequest[]>;
  /** Fails requests that are still `accepted`, e.g. expired, queueing webhooks. */
  failRequests(failures: { id: Hex; reason: string }[], now: number): Promise<void>;

  /** Claims due webhook deliveries; each stays invisible to other claims until `leaseUntil`. */
  claimWebhooks(now: number, limit: number, leaseUntil: number): Promise<WebhookDelivery[]>;
  completeWebhook(
    id: number,
    result: { delivered: true } | { delivered: false; retryAt?: number; error: string },
  ): Promise<void>;
}
