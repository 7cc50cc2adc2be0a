import { decodeFunctionData, type Hex } from "viem";

import { settlementLedgerAbi } from "../protocol/generated/abi.ts";
import type { BatchCheckerContext } from "./batchChecker.ts";
import type { AuditEvent } from "./decodeLog.ts";
import { auditErc1271Signature } from "./erc1271.ts";
import { toRecoverableCompact } from "./signerRecoverer.ts";
import { TransactionChecker } from "./transactionChecker.ts";

type Event<Name extends string> = Extract<AuditEvent, { eventName: Name }>;
/** One refund's outcome event: settled or skipped. */
type RefundEvent = Event<"PaymentRefunded"> | Event<"RefundRejected">;
/** One decoded `RefundRequest` of `refundPayments`. */
type RefundRequest = Extract<
  ReturnType<typeof decodeFunctionData<typeof settlementLedgerAbi>>,
  { functionName: "refundPayments" }
>["args"][0][number];

const INVALID_SIGNATURE = 1;

/**
 * Checks each `refundPayments` transaction once its events are all in: its calldata request by request
 * against the events (payment id, refund id, parties, amount, banks, currency); every refund against the
 * settled payment it returns (it exists, matches, names the batch that settled it, and the refunds never
 * add up to more than the payment); every payee signature re-verified, agreeing with the ledger's verdict.
 *
 * @example
 * const refunds = new RefundChecker(context);
 * refunds.add(event); // PaymentRefunded or RefundRejected
 * await refunds.close(); // when the transaction's events end
 */
export class RefundChecker extends TransactionChecker<RefundEvent> {
  readonly #context: BatchCheckerContext;

  constructor(context: BatchCheckerContext) {
    super();
    this.#context = context;
  }

  /** Checks one transaction's refunds. */
  protected async check(events: [RefundEvent, ...RefundEvent[]]): Promise<void> {
    const [first] = events;
    const { findings } = this.#context;
    findings.examined("calldata.decoded", events.length);
    const requests = this.#decodeCalldata(first);
    if (requests === undefined) return;
    if (requests.length !== events.length) {
      findings.fail({
        check: "calldata.decoded",
        message: "the calldata holds another number of refunds than the transaction has refund events",
        evidence: first.at,
        details: { calldata: String(requests.length), events: String(events.length) },
      });
      return;
    }
    for (const [index, event] of events.entries()) await this.#check(requests[index] as RefundRequest, event);
  }

  #decodeCalldata(first: RefundEvent): readonly RefundRequest[] | undefined {
    const { findings, store, ledger } = this.#context;
    const tx = store.transaction(first.at.transactionHash);
    let problem: string;
    if (tx === undefined) problem = "the refund transaction's calldata is missing from the store";
    else if (tx.to?.toLowerCase() !== ledger.toLowerCase()) {
      problem = "refundPayments was called through a contract; its calldata is not the transaction's";
    } else {
      try {
        const call = decodeFunctionData({ abi: settlementLedgerAbi, data: tx.input });
        if (call.functionName === "refundPayments") return call.args[0];
        problem = `the transaction calls ${call.functionName}, not refundPayments`;
      } catch {
        problem = "the transaction's calldata does not decode as refundPayments";
      }
    }
    findings.fail({ check: "calldata.decoded", message: problem, evidence: first.at });
    return undefined;
  }

  async #check(request: RefundRequest, event: RefundEvent): Promise<void> {
    const { findings, hasher } = this.#context;
    const paymentId = hasher.paymentId(request.payment);
    const refundId = hasher.refundId({
      paymentId,
      amount: request.amount,
      nonce: request.nonce,
      deadline: request.deadline,
    });
    const differences: Record<string, string> = {};
    const compare = (field: string, fromCalldata: unknown, fromEvent: unknown): void => {
      const a = String(fromCalldata).toLowerCase();
      const b = String(fromEvent).toLowerCase();
      if (a !== b) differences[field] = `calldata ${a}, event ${b}`;
    };
    compare("paymentId", paymentId, event.args.paymentId);
    compare("refundId", refundId, event.args.refundId);
    if (event.eventName === "PaymentRefunded") {
      compare("payer", request.payment.payer, event.args.payer);
      compare("payee", request.payment.payee, event.args.payee);
      compare("amount", request.amount, event.args.amount);
      compare("payeeBank", request.payment.payeeBank, event.args.payeeBank);
      compare("currency", request.payment.currency, event.args.currency);
      this.#checkAgainstPayment(request, event);
    }
    if (Object.keys(differences).length > 0) {
      findings.fail({
        check: "calldata.decoded",
        message: "a refund's calldata differs from its event",
        evidence: event.at,
        details: differences,
      });
    }
    const valid = await this.#isSignedByPayee(request, refundId, event);
    if (valid === undefined) return;
    const refusedForSignature =
      event.eventName === "RefundRejected" && event.args.reason === INVALID_SIGNATURE;
    findings.examined("signatures.refund");
    if (valid === refusedForSignature) {
      findings.fail({
        check: "signatures.refund",
        message:
          event.eventName === "PaymentRefunded"
            ? "a settled refund's payee signature is not valid under the deployment's EIP-712 domain"
            : refusedForSignature
              ? "the ledger skipped a refund as InvalidSignature, but its signature is valid"
              : "a refund skipped for another reason carries an invalid signature",
        evidence: event.at,
        details: { refundId: event.args.refundId, payee: request.payment.payee },
      });
    }
  }

  /** A refund returns part of a settled payment: the same parties, its batch, and no more than is left. */
  #checkAgainstPayment(request: RefundRequest, event: Event<"PaymentRefunded">): void {
    const { findings, payments, replay } = this.#context;
    findings.examined("refunds.bounded");
    const fail = (message: string, details: Record<string, string> = {}): void => {
      findings.fail({
        check: "refunds.bounded",
        message,
        evidence: event.at,
        details: { paymentId: event.args.paymentId, ...details },
      });
    };
    replay.useNonce(request.payment.payee, request.payment.currency, request.nonce, event.at);
    if (request.deadline < BigInt(event.timestamp)) fail("a refund settled after its deadline");
    const payment = payments.payment(event.args.paymentId);
    if (payment === undefined) {
      fail("a refund of a payment that never settled");
      return;
    }
    if (
      payment.payer.toLowerCase() !== event.args.payer.toLowerCase() ||
      payment.payee.toLowerCase() !== event.args.payee.toLowerCase() ||
      payment.payerBank !== event.args.payerBank ||
      payment.payeeBank !== event.args.payeeBank ||
      payment.currency !== event.args.currency
    ) {
      fail("a refund's parties, banks or currency differ from its payment's");
    }
    if (request.batchRoot.toLowerCase() !== payment.batchRoot.toLowerCase()) {
      fail("a refund names another batch than the one that settled its payment", {
        refundBatchRoot: request.batchRoot,
        paymentBatchRoot: payment.batchRoot,
      });
    }
    const total = payments.addRefund(event.args.paymentId, event.args.amount);
    if (total > payment.amount) {
      fail("refunds exceed their payment", { refunded: String(total), payment: String(payment.amount) });
    }
  }

  /**
   * Whether the payee signed the refund, as `SignatureLib.isValidCalldata` decides: ECDSA for 64 or 65
   * bytes, else (or if ECDSA fails) ERC-1271 when the payee is a contract.
   */
  async #isSignedByPayee(
    request: RefundRequest,
    refundId: Hex,
    event: RefundEvent,
  ): Promise<boolean | undefined> {
    const { client, ledger, recoverer, findings } = this.#context;
    const payee = request.payment.payee.toLowerCase();
    const compact = toRecoverableCompact(request.signature);
    if (compact !== undefined) {
      await recoverer.whenReady();
      const [signer] = await recoverer.recover([{ digest: refundId, signature: compact }]);
      if (signer === payee) return true;
    }
    return auditErc1271Signature(client, findings, "signatures.refund", {
      account: request.payment.payee,
      digest: refundId,
      signature: request.signature,
      blockNumber: BigInt(event.at.blockNumber),
      ledger,
      evidence: event.at,
    });
  }
}
