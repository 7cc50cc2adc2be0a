import { decodeFunctionData, type Address, type Hex, type PublicClient } from "viem";

import { decodePaymentBatch } from "../protocol/decodePaymentBatch.ts";
import { decodePaymentTerms } from "../protocol/events.ts";
import { settlementLedgerAbi } from "../protocol/generated/abi.ts";
import type { SignedPayment } from "../protocol/types.ts";
import type { AuditEvent } from "./decodeLog.ts";
import { auditErc1271Signature } from "./erc1271.ts";
import type { Evidence, FindingCollector } from "./findings.ts";
import type { LedgerHasher } from "./ledgerHasher.ts";
import type { LedgerReplay } from "./ledgerReplay.ts";
import type { PaymentIndex } from "./paymentIndex.ts";
import type { SignerRecoverer } from "./signerRecoverer.ts";
import type { AuditStore } from "./store.ts";

type Event<Name extends string> = Extract<AuditEvent, { eventName: Name }>;
/** One item's outcome event: settled or skipped. */
type ItemEvent = Event<"PaymentSettled"> | Event<"PaymentRejected">;

const INVALID_SIGNATURE = 1;
const ZERO_ROOT = `0x${"00".repeat(32)}`;

/** What a batch check needs from the rest of the reconciliation. */
export interface BatchCheckerContext {
  client: PublicClient;
  ledger: Address;
  store: AuditStore;
  findings: FindingCollector;
  replay: LedgerReplay;
  payments: PaymentIndex;
  hasher: LedgerHasher;
  recoverer: SignerRecoverer;
}

/**
 * Checks each `settlePayments` batch when its `BatchSettled` arrives: the Merkle root and counts against
 * its settled ids; its interbank legs against its cross-bank payments; its transaction's calldata item by
 * item against its events (payment id, payer, payee, amount, banks, currency, QR hash); every payer
 * signature re-verified under the deployment's domain (ECDSA on worker threads, ERC-1271 by `eth_call`),
 * agreeing with the ledger's verdict on every item; ids settled once; nonces used once.
 *
 * @example
 * const batches = new BatchChecker(context);
 * for (const event of events) {
 *   if (event.eventName === "PaymentSettled" || event.eventName === "PaymentRejected") batches.addItem(event);
 *   if (event.eventName === "InterbankSettled" && batches.isOpen) batches.addLeg(event);
 *   if (event.eventName === "BatchSettled") await batches.close(event);
 * }
 * await batches.drain();
 */
export class BatchChecker {
  readonly #context: BatchCheckerContext;
  #items: ItemEvent[] = [];
  #legs: Event<"InterbankSettled">[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #backgroundError: Error | undefined;

  constructor(context: BatchCheckerContext) {
    this.#context = context;
  }

  /** Whether item events have arrived whose `BatchSettled` has not. */
  get isOpen(): boolean {
    return this.#items.length > 0;
  }

  /** The transaction of the open batch. */
  get transactionHash(): Hex | undefined {
    return this.#items[0]?.at.transactionHash;
  }

  addItem(event: ItemEvent): void {
    this.#items.push(event);
  }

  addLeg(event: Event<"InterbankSettled">): void {
    this.#legs.push(event);
  }

  /** Reports an open batch whose transaction ended without `BatchSettled`, and forgets it. */
  abandon(): void {
    const first = this.#items[0];
    if (first !== undefined) {
      this.#context.findings.fail({
        check: "batches.root",
        message: "payment events without the BatchSettled that must close their batch",
        evidence: first.at,
      });
    }
    this.#reset();
  }

  /** Checks the open batch, which `event` closes. Signature checks go on in the background. */
  async close(event: Event<"BatchSettled">): Promise<void> {
    const items = this.#items;
    const legs = this.#legs;
    this.#reset();
    const { findings } = this.#context;
    const settled = items.filter(
      (item): item is Event<"PaymentSettled"> => item.eventName === "PaymentSettled",
    );
    this.#checkRoot(event, items, settled);
    this.#checkLegs(event, settled, legs);
    this.#indexPayments(event, settled);
    const payments = this.#decodeCalldata(event, items);
    if (payments === undefined) return;
    findings.examined("calldata.decoded", items.length);
    const jobs: { index: number; digest: Hex; signature: Hex }[] = [];
    const walletChecks: Promise<void>[] = [];
    payments.forEach((signed, index) => {
      const item = items[index] as ItemEvent;
      const digest = this.#checkItem(event, signed, item);
      if (signed.smartAccount === true) {
        walletChecks.push(this.#checkWalletSignature(signed, digest, item));
      } else {
        jobs.push({ index, digest, signature: signed.signature });
      }
    });
    await this.#context.recoverer.whenReady();
    const recovered = this.#context.recoverer.recover(jobs).then((signers) => {
      signers.forEach((signer, i) => {
        const { index } = jobs[i] as (typeof jobs)[number];
        const item = items[index] as ItemEvent;
        this.#judgeSignature(item, signer === item.args.payer.toLowerCase());
      });
    });
    this.#track(Promise.all([recovered, ...walletChecks]).then(() => undefined));
  }

  /** Waits for every signature check still running. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#backgroundError !== undefined) throw this.#backgroundError;
  }

  #checkRoot(event: Event<"BatchSettled">, items: ItemEvent[], settled: Event<"PaymentSettled">[]): void {
    const { findings, hasher } = this.#context;
    findings.examined("batches.root");
    const { root, settledCount, rejectedCount } = event.args;
    const expected =
      settled.length === 0 ? ZERO_ROOT : hasher.batchRoot(settled.map((s) => s.args.paymentId));
    if (root.toLowerCase() !== expected) {
      findings.fail({
        check: "batches.root",
        message: "the batch root is not the Merkle root of its settled payment ids",
        evidence: event.at,
        details: { root, expected },
      });
    }
    const rejected = items.length - settled.length;
    if (settledCount !== BigInt(settled.length) || rejectedCount !== BigInt(rejected)) {
      findings.fail({
        check: "batches.root",
        message: "the batch's counts differ from its payment events",
        evidence: event.at,
        details: {
          settledCount: String(settledCount),
          settledEvents: String(settled.length),
          rejectedCount: String(rejectedCount),
          rejectedEvents: String(rejected),
        },
      });
    }
  }

  /** The payer bank pays each payee bank once, the sum of the batch's payments to that bank's customers. */
  #checkLegs(
    event: Event<"BatchSettled">,
    settled: Event<"PaymentSettled">[],
    legs: Event<"InterbankSettled">[],
  ): void {
    const { findings } = this.#context;
    const { payerBank, currency } = event.args;
    const expected = new Map<number, { amount: bigint; at: Evidence }>();
    for (const payment of settled) {
      const terms = decodePaymentTerms(payment.args.terms);
      if (terms.payerBank !== payerBank || terms.currency !== currency) {
        findings.fail({
          check: "events.consistent",
          message: "a payment's bank or currency differs from its batch's",
          evidence: payment.at,
          details: { payerBank: String(terms.payerBank), currency: String(terms.currency) },
        });
      }
      if (terms.payeeBank === payerBank) continue;
      const leg = expected.get(terms.payeeBank);
      expected.set(terms.payeeBank, {
        amount: (leg?.amount ?? 0n) + terms.amount,
        at: leg?.at ?? payment.at,
      });
    }
    findings.examined("interbank.net", expected.size);
    for (const leg of legs) {
      const { fromBank, toBank, currency: legCurrency, amount } = leg.args;
      const owed = expected.get(toBank);
      expected.delete(toBank);
      if (fromBank !== payerBank || legCurrency !== currency || owed?.amount !== amount) {
        findings.fail({
          check: "interbank.net",
          message: "a batch's reserve movement differs from the net of its cross-bank payments",
          evidence: leg.at,
          details: {
            fromBank: String(fromBank),
            toBank: String(toBank),
            amount: String(amount),
            payments: String(owed?.amount ?? 0n),
          },
        });
      }
    }
    for (const [toBank, { amount, at }] of expected) {
      findings.fail({
        check: "interbank.net",
        message: "cross-bank payments without the reserve movement that settles them",
        evidence: at,
        details: { fromBank: String(payerBank), toBank: String(toBank), payments: String(amount) },
      });
    }
  }

  #indexPayments(event: Event<"BatchSettled">, settled: Event<"PaymentSettled">[]): void {
    const { findings, payments } = this.#context;
    const { root, payerBank } = event.args;
    if (settled.length > 0 && !payments.addBatchRoot(root, payerBank, event.at)) {
      findings.fail({
        check: "payments.unique",
        message: "the same batch root was settled twice",
        evidence: event.at,
        details: { root, first: payments.batchRoot(root)?.at.transactionHash ?? "" },
      });
    }
    findings.examined("payments.unique", settled.length);
    for (const payment of settled) {
      const terms = decodePaymentTerms(payment.args.terms);
      const added = payments.addPayment({
        id: payment.args.paymentId,
        payer: payment.args.payer,
        payee: payment.args.payee,
        payerBank: terms.payerBank,
        payeeBank: terms.payeeBank,
        currency: terms.currency,
        amount: terms.amount,
        batchRoot: root,
        at: payment.at,
      });
      if (!added) {
        const first = payments.payment(payment.args.paymentId)?.at;
        findings.fail({
          check: "payments.unique",
          message: "a payment id settled twice",
          evidence: payment.at,
          details: {
            paymentId: payment.args.paymentId,
            firstTransaction: first?.transactionHash ?? "",
            firstLogIndex: String(first?.logIndex ?? ""),
          },
        });
      }
    }
  }

  /** The batch's signed payments from its transaction's calldata, or undefined (reported) if unusable. */
  #decodeCalldata(event: Event<"BatchSettled">, items: ItemEvent[]): SignedPayment[] | undefined {
    const { findings, replay } = this.#context;
    const read = this.#readCalldata(event, items.length);
    if ("problem" in read) {
      findings.examined("calldata.decoded", items.length);
      findings.fail({
        check: "calldata.decoded",
        message: read.problem,
        evidence: event.at,
        details: read.details,
      });
      return undefined;
    }
    if (!replay.isRelayerOf(read.from, event.args.payerBank)) {
      findings.fail({
        check: "events.consistent",
        message: "the batch was sent by an address that was not a relayer of the payer's bank",
        evidence: event.at,
        details: { sender: read.from, payerBank: String(event.args.payerBank) },
      });
    }
    return read.payments;
  }

  /** The stored calldata of the batch's transaction, decoded and checked against the batch's shape. */
  #readCalldata(
    event: Event<"BatchSettled">,
    itemCount: number,
  ): { payments: SignedPayment[]; from: Address } | { problem: string; details?: Record<string, string> } {
    const { store, ledger } = this.#context;
    const tx = store.transaction(event.at.transactionHash);
    if (tx === undefined) return { problem: "the batch's transaction calldata is missing from the store" };
    if (tx.to?.toLowerCase() !== ledger.toLowerCase()) {
      // A contract relayer's inner call is not in the transaction's calldata; only a call trace shows it.
      return {
        problem: "settlePayments was called through a contract; its calldata is not the transaction's",
        details: { to: tx.to ?? "(contract creation)" },
      };
    }
    let payments: SignedPayment[];
    try {
      const call = decodeFunctionData({ abi: settlementLedgerAbi, data: tx.input });
      if (call.functionName !== "settlePayments")
        return { problem: `the transaction calls ${call.functionName}` };
      const [currency, payees, encodedItems] = call.args;
      if (currency !== event.args.currency) {
        return {
          problem: "the calldata's currency differs from the batch's",
          details: { calldata: String(currency) },
        };
      }
      payments = decodePaymentBatch({ currency, payees, items: encodedItems });
    } catch (error) {
      return {
        problem: "the transaction's calldata does not decode as a payment batch",
        details: { error: error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error) },
      };
    }
    if (payments.length !== itemCount) {
      return {
        problem: "the calldata holds another number of items than the batch has events",
        details: { calldataItems: String(payments.length), events: String(itemCount) },
      };
    }
    return { payments, from: tx.from };
  }

  /** Compares one calldata item with its event; returns the payment id recomputed from the calldata. */
  #checkItem(batch: Event<"BatchSettled">, signed: SignedPayment, item: ItemEvent): Hex {
    const { findings, hasher, replay } = this.#context;
    const { payment } = signed;
    const id = hasher.paymentId(payment);
    const differences: Record<string, string> = {};
    const compare = (field: string, fromCalldata: unknown, fromEvent: unknown): void => {
      const a = String(fromCalldata).toLowerCase();
      const b = String(fromEvent).toLowerCase();
      if (a !== b) differences[field] = `calldata ${a}, event ${b}`;
    };
    compare("paymentId", id, item.args.paymentId);
    compare("payer", payment.payer, item.args.payer);
    if (item.eventName === "PaymentSettled") {
      const terms = decodePaymentTerms(item.args.terms);
      compare("payee", payment.payee, item.args.payee);
      compare("payeeBank", payment.payeeBank, terms.payeeBank);
      compare("amount", payment.amount, terms.amount);
      compare("currency", payment.currency, terms.currency);
      compare("qrHash", payment.qrHash, item.args.qrHash);
      replay.useNonce(payment.payer, payment.currency, payment.nonce, item.at);
      if (payment.deadline < BigInt(item.timestamp)) {
        findings.fail({
          check: "events.consistent",
          message: "a payment settled after its deadline",
          evidence: item.at,
          details: { deadline: String(payment.deadline), blockTimestamp: String(item.timestamp) },
        });
      }
    }
    if (Object.keys(differences).length > 0) {
      findings.fail({
        check: "calldata.decoded",
        message: "a batch item's calldata differs from its event",
        evidence: item.at,
        details: { ...differences, batch: batch.at.transactionHash },
      });
    }
    return id;
  }

  async #checkWalletSignature(signed: SignedPayment, digest: Hex, item: ItemEvent): Promise<void> {
    const { client, ledger, findings } = this.#context;
    const valid = await auditErc1271Signature(client, findings, "signatures.payer", {
      account: signed.payment.payer,
      digest,
      signature: signed.signature,
      blockNumber: BigInt(item.at.blockNumber),
      ledger,
      evidence: item.at,
    });
    if (valid !== undefined) this.#judgeSignature(item, valid);
  }

  /** The ledger settles an item only with a valid signature, and skips it as InvalidSignature only without. */
  #judgeSignature(item: ItemEvent, valid: boolean): void {
    const { findings } = this.#context;
    findings.examined("signatures.payer");
    const refusedForSignature =
      item.eventName === "PaymentRejected" && item.args.reason === INVALID_SIGNATURE;
    if (valid === !refusedForSignature) return;
    const message =
      item.eventName === "PaymentSettled"
        ? "a settled payment's payer signature is not valid under the deployment's EIP-712 domain"
        : refusedForSignature
          ? "the ledger skipped a payment as InvalidSignature, but its signature is valid"
          : "a payment skipped for another reason carries an invalid signature the ledger should have caught";
    findings.fail({
      check: "signatures.payer",
      message,
      evidence: item.at,
      details: { paymentId: item.args.paymentId, payer: item.args.payer },
    });
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    work.then(
      () => this.#inFlight.delete(work),
      (error: unknown) => {
        this.#backgroundError ??= error instanceof Error ? error : new Error(String(error));
        this.#inFlight.delete(work);
      },
    );
  }

  #reset(): void {
    this.#items = [];
    this.#legs = [];
  }
}
