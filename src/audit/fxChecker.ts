import { decodeFunctionData, hashTypedData, type Address, type Hex } from "viem";

import { decodePaymentTerms } from "../protocol/events.ts";
import {
  fxDomain,
  fxPaymentId,
  fxTypes,
  payAmountFor,
  quoteStructHash,
  type FxDomain,
} from "../protocol/fx.ts";
import { fxSettlementAbi } from "../protocol/generated/abi.ts";
import { REJECT_REASONS } from "../protocol/reasons.ts";
import type { BatchCheckerContext } from "./batchChecker.ts";
import type { AuditEvent } from "./decodeLog.ts";
import { auditErc1271Signature } from "./erc1271.ts";
import type { Evidence } from "./findings.ts";
import { toRecoverableCompact } from "./signerRecoverer.ts";
import { TransactionChecker } from "./transactionChecker.ts";

/** A settled cross-currency payment: the ledger's event with both legs. */
type SettledEvent = Extract<AuditEvent, { eventName: "CrossCurrencySettled" }>;
/** A cross-currency payment the FX module skipped. */
type RejectedEvent = Extract<AuditEvent, { contract: "fx"; eventName: "PaymentRejected" }>;
type QuoteUsedEvent = Extract<AuditEvent, { eventName: "QuoteUsed" }>;
/** One request's outcome: settled or skipped. */
type ItemEvent = SettledEvent | RejectedEvent;
/** The events of one `settleFxPayments` transaction that the checker collects, in log order. */
export type FxTransactionEvent = ItemEvent | QuoteUsedEvent;
/** One decoded `FxPaymentRequest` of `settleFxPayments`. */
type FxRequest = Extract<
  ReturnType<typeof decodeFunctionData<typeof fxSettlementAbi>>,
  { functionName: "settleFxPayments" }
>["args"][0][number];

const reason = (name: (typeof REJECT_REASONS)[number]): number => REJECT_REASONS.indexOf(name);
const INVALID_SIGNATURE = reason("InvalidSignature");
const QUOTE_INVALID = reason("QuoteInvalid");
const QUOTE_OUT_OF_WINDOW = reason("QuoteOutOfWindow");
const QUOTE_EXHAUSTED = reason("QuoteExhausted");
const ZERO_ROOT: Hex = `0x${"00".repeat(32)}`;
/** `quoteUsed` calls in flight at once when comparing with the chain. */
const QUOTES_IN_FLIGHT = 64;

/** A quote as the payments that used it consumed it. */
interface QuoteUse {
  quoteHash: Hex;
  used: bigint;
}

/**
 * Checks each `settleFxPayments` transaction of the FX module once its events are all in. Request by request
 * against the events: the payment id (recomputed under the FX module's EIP-712 domain), parties and QR hash;
 * both legs of every settled payment against the calldata (payer bank → provider in the pay currency,
 * provider → payee bank in the receive currency); the rate (`payAmountFor`, rounded up as the contract does);
 * the quote's window and its consumption up to its maximum, against `QuoteUsed`; the payer's signature and the
 * provider's quote signature, re-verified independently of the contract and agreeing with its verdicts. The
 * reserve movements of the legs are matched by the reconciler (`fx.legs`), and {@link FxChecker.compareQuotes}
 * compares the rebuilt consumption with `quoteUsed` at the end.
 *
 * @example
 * const fx = new FxChecker(context, deployment);
 * fx.add(event); // CrossCurrencySettled, the FX module's PaymentRejected, QuoteUsed
 * await fx.close(); // when the transaction's events end
 * await fx.compareQuotes(checkpoint);
 */
export class FxChecker extends TransactionChecker<FxTransactionEvent> {
  readonly #context: BatchCheckerContext;
  readonly #fx: Address;
  readonly #domain: FxDomain;
  /** Consumption of every quote used so far; grows with quotes, not with payments. */
  readonly #quotes = new Map<Hex, QuoteUse>();

  constructor(context: BatchCheckerContext, deployment: { chainId: number; fx: Address }) {
    super();
    this.#context = context;
    this.#fx = deployment.fx;
    this.#domain = fxDomain(deployment.chainId, deployment.fx);
  }

  /** Checks one transaction's cross-currency payments. */
  protected async check(events: [FxTransactionEvent, ...FxTransactionEvent[]]): Promise<void> {
    const [first] = events;
    const { findings } = this.#context;
    const items: ItemEvent[] = [];
    const quoteUsedOf = new Map<ItemEvent, QuoteUsedEvent>();
    for (const event of events) {
      if (event.eventName !== "QuoteUsed") {
        items.push(event);
        continue;
      }
      const last = items.at(-1);
      if (last?.eventName === "CrossCurrencySettled" && !quoteUsedOf.has(last)) {
        quoteUsedOf.set(last, event);
      } else {
        findings.examined("fx.quotes");
        findings.fail({
          check: "fx.quotes",
          message: "a QuoteUsed that no settled cross-currency payment explains",
          evidence: event.at,
          details: { quoteHash: event.args.quoteHash },
        });
      }
    }
    findings.examined("calldata.decoded", items.length);
    const read = this.#readCalldata(first, items.length);
    if (read === undefined) return;
    const payerBank = this.#context.replay.relayers.get(read.from.toLowerCase() as Address) ?? 0;
    if (payerBank === 0) {
      findings.fail({
        check: "events.consistent",
        message: "cross-currency payments were sent by an address that relays for no bank",
        evidence: first.at,
        details: { sender: read.from },
      });
    }
    /** Quotes whose provider signature a request of this transaction carried (the contract checks each once). */
    const signedQuotes = new Set<Hex>();
    for (const [index, item] of items.entries()) {
      await this.#check(
        read.requests[index] as FxRequest,
        item,
        quoteUsedOf.get(item),
        payerBank,
        signedQuotes,
      );
    }
  }

  /** Compares every quote's rebuilt consumption with the FX module's `quoteUsed` at the checkpoint block. */
  async compareQuotes(checkpoint: { blockNumber: bigint; blockHash: Hex } | undefined): Promise<void> {
    if (checkpoint === undefined) return;
    const { client, findings } = this.#context;
    const at: Evidence = {
      blockNumber: Number(checkpoint.blockNumber),
      transactionHash: checkpoint.blockHash,
    };
    const compare = async (quote: QuoteUse): Promise<void> => {
      findings.examined("state.quotes");
      const onChain = await client.readContract({
        address: this.#fx,
        abi: fxSettlementAbi,
        functionName: "quoteUsed",
        args: [quote.quoteHash],
        blockNumber: checkpoint.blockNumber,
      });
      if (onChain === quote.used) return;
      findings.fail({
        check: "state.quotes",
        message: `use of quote ${quote.quoteHash}: rebuilt from events ${quote.used}, contract ${onChain}`,
        evidence: at,
        details: { rebuilt: String(quote.used), contract: String(onChain) },
      });
    };
    // A bounded number of calls in flight, as for the ledger's state: quotes can be many over the years.
    const quotes = [...this.#quotes.values()];
    for (let start = 0; start < quotes.length; start += QUOTES_IN_FLIGHT) {
      await Promise.all(quotes.slice(start, start + QUOTES_IN_FLIGHT).map(compare));
    }
  }

  #readCalldata(
    first: FxTransactionEvent,
    itemCount: number,
  ): { requests: readonly FxRequest[]; from: Address } | undefined {
    const { findings, store } = this.#context;
    const tx = store.transaction(first.at.transactionHash);
    let problem: string;
    let details: Record<string, string> | undefined;
    if (tx === undefined) problem = "the cross-currency transaction's calldata is missing from the store";
    else if (tx.to?.toLowerCase() !== this.#fx.toLowerCase()) {
      problem = "settleFxPayments was called through a contract; its calldata is not the transaction's";
      details = { to: tx.to ?? "(contract creation)" };
    } else {
      try {
        const call = decodeFunctionData({ abi: fxSettlementAbi, data: tx.input });
        if (call.functionName !== "settleFxPayments") {
          problem = `the transaction calls ${call.functionName}, not settleFxPayments`;
        } else if (call.args[0].length !== itemCount) {
          problem = "the calldata holds another number of payments than the transaction has payment events";
          details = { calldata: String(call.args[0].length), events: String(itemCount) };
        } else {
          return { requests: call.args[0], from: tx.from };
        }
      } catch {
        problem = "the transaction's calldata does not decode as settleFxPayments";
      }
    }
    findings.fail({ check: "calldata.decoded", message: problem, evidence: first.at, details });
    return undefined;
  }

  async #check(
    request: FxRequest,
    item: ItemEvent,
    quoteUsed: QuoteUsedEvent | undefined,
    payerBank: number,
    signedQuotes: Set<Hex>,
  ): Promise<void> {
    const { findings } = this.#context;
    const { payment, quote } = request;
    const id = fxPaymentId(this.#domain, payment);
    const quoteHash = quoteStructHash(quote);
    const differences = new Differences();
    differences.compare("paymentId", id, item.args.paymentId);
    differences.compare("payer", payment.payer, item.args.payer);
    if (item.eventName === "CrossCurrencySettled") {
      differences.compare("payee", payment.payee, item.args.payee);
      differences.compare("qrHash", payment.qrHash, item.args.qrHash);
    }
    if (differences.any) {
      findings.fail({
        check: "calldata.decoded",
        message: "a cross-currency payment's calldata differs from its event",
        evidence: item.at,
        details: differences.details,
      });
    }

    const payerValid = await this.#isSignedByPayer(request, id, item);
    const quoteValid = await this.#isSignedByProvider(request);
    if (quoteValid) signedQuotes.add(quoteHash);
    if (payerValid !== undefined) this.#judgePayerSignature(item, payerValid);

    if (item.eventName === "CrossCurrencySettled") {
      findings.examined("signatures.quote");
      if (!signedQuotes.has(quoteHash)) {
        findings.fail({
          check: "signatures.quote",
          message:
            "a cross-currency payment settled at a quote no relayer key of its provider signed under the FX module's domain",
          evidence: item.at,
          details: { quoteHash, provider: String(quote.provider) },
        });
      }
      this.#checkSettled(request, item, quoteHash, quoteUsed, payerBank);
      return;
    }
    const code = item.args.reason;
    if (code === QUOTE_INVALID) {
      findings.examined("signatures.quote");
      if (quoteValid && quoteHash === payment.quoteHash) {
        findings.fail({
          check: "signatures.quote",
          message: "the FX module skipped a payment as QuoteInvalid, but its quote is validly signed",
          evidence: item.at,
          details: { quoteHash },
        });
      }
    }
    if (code === QUOTE_EXHAUSTED || code === QUOTE_OUT_OF_WINDOW)
      this.#checkQuoteRefusal(request, item, quoteHash);
  }

  /** A settled payment: both legs, the rate, the quote's window and consumption, the nonce, the deadline. */
  #checkSettled(
    request: FxRequest,
    item: SettledEvent,
    quoteHash: Hex,
    quoteUsed: QuoteUsedEvent | undefined,
    payerBank: number,
  ): void {
    const { findings, replay, payments } = this.#context;
    const { payment, quote } = request;
    const timestamp = BigInt(item.timestamp);
    const pay = decodePaymentTerms(item.args.payTerms);
    const receive = decodePaymentTerms(item.args.receiveTerms);

    findings.examined("fx.legs");
    const legs = new Differences();
    legs.compare("pay leg amount", payment.payAmount, pay.amount);
    legs.compare("pay leg currency", payment.payCurrency, pay.currency);
    legs.compare("pay leg from (the relayer's bank)", payerBank, pay.payerBank);
    legs.compare("pay leg to (the quote's provider)", quote.provider, pay.payeeBank);
    legs.compare("receive leg amount", payment.receiveAmount, receive.amount);
    legs.compare("receive leg currency", payment.receiveCurrency, receive.currency);
    legs.compare("receive leg from (the quote's provider)", quote.provider, receive.payerBank);
    legs.compare("receive leg to (the payee's bank)", payment.payeeBank, receive.payeeBank);
    if (legs.any) {
      findings.fail({
        check: "fx.legs",
        message: "a cross-currency payment's legs differ from its calldata",
        evidence: item.at,
        details: legs.details,
      });
    }

    findings.examined("fx.rate");
    const rateProblems = new Differences();
    rateProblems.compare("pay currency against the quote's", payment.payCurrency, quote.fromCurrency);
    rateProblems.compare("receive currency against the quote's", payment.receiveCurrency, quote.toCurrency);
    if (quote.rate === 0n) rateProblems.add("rate", "zero");
    else
      rateProblems.compare("payAmount", payment.payAmount, payAmountFor(payment.receiveAmount, quote.rate));
    if (rateProblems.any) {
      findings.fail({
        check: "fx.rate",
        message: "a cross-currency payment's amounts do not follow its quote's rate",
        evidence: item.at,
        details: {
          ...rateProblems.details,
          rate: String(quote.rate),
          receiveAmount: String(payment.receiveAmount),
        },
      });
    }

    findings.examined("fx.quotes");
    const quoteFail = (message: string, details: Record<string, string>): void => {
      findings.fail({ check: "fx.quotes", message, evidence: item.at, details: { quoteHash, ...details } });
    };
    if (payment.quoteHash.toLowerCase() !== quoteHash) {
      quoteFail("a cross-currency payment settled at another quote than the one its payer signed", {
        signed: payment.quoteHash,
      });
    }
    if (timestamp < quote.validFrom || timestamp > quote.expiry) {
      quoteFail("a quote was used outside its validity window", {
        blockTimestamp: String(timestamp),
        validFrom: String(quote.validFrom),
        expiry: String(quote.expiry),
      });
    }
    const use = this.#quotes.get(quoteHash) ?? { quoteHash, used: 0n };
    use.used += payment.receiveAmount;
    this.#quotes.set(quoteHash, use);
    if (use.used > quote.maxToAmount) {
      quoteFail("a quote was used beyond its maximum", {
        used: String(use.used),
        maxToAmount: String(quote.maxToAmount),
      });
    }
    if (quoteUsed === undefined) {
      quoteFail("a settled cross-currency payment without the QuoteUsed that meters its quote", {});
    } else {
      const metered = new Differences();
      metered.compare("quoteHash", quoteHash, quoteUsed.args.quoteHash);
      metered.compare("provider", quote.provider, quoteUsed.args.provider);
      metered.compare("quoteId", quote.quoteId, quoteUsed.args.quoteId);
      metered.compare("receiveAmount", payment.receiveAmount, quoteUsed.args.receiveAmount);
      metered.compare("used", use.used, quoteUsed.args.used);
      if (metered.any) {
        findings.fail({
          check: "fx.quotes",
          message: "a QuoteUsed differs from the quote's use rebuilt from calldata",
          evidence: quoteUsed.at,
          details: metered.details,
        });
      }
    }

    replay.useNonce(payment.payer, payment.payCurrency, payment.nonce, item.at);
    if (payment.deadline < timestamp) {
      findings.fail({
        check: "events.consistent",
        message: "a cross-currency payment settled after its deadline",
        evidence: item.at,
        details: { deadline: String(payment.deadline), blockTimestamp: String(timestamp) },
      });
    }
    findings.examined("payments.unique");
    const added = payments.addPayment({
      id: item.args.paymentId,
      payer: item.args.payer,
      payee: item.args.payee,
      payerBank: pay.payerBank,
      payeeBank: receive.payeeBank,
      currency: receive.currency,
      amount: receive.amount,
      batchRoot: ZERO_ROOT,
      at: item.at,
    });
    if (!added) {
      findings.fail({
        check: "payments.unique",
        message: "a payment id settled twice",
        evidence: item.at,
        details: {
          paymentId: item.args.paymentId,
          firstTransaction: payments.payment(item.args.paymentId)?.at.transactionHash ?? "",
        },
      });
    }
  }

  /** A payment skipped as QuoteExhausted or QuoteOutOfWindow: the rebuilt quote must agree. */
  #checkQuoteRefusal(request: FxRequest, item: RejectedEvent, quoteHash: Hex): void {
    const { findings } = this.#context;
    const { payment, quote } = request;
    findings.examined("fx.quotes");
    const timestamp = BigInt(item.timestamp);
    const used = this.#quotes.get(quoteHash)?.used ?? 0n;
    const agrees =
      item.args.reason === QUOTE_EXHAUSTED
        ? used + payment.receiveAmount > quote.maxToAmount
        : timestamp < quote.validFrom || timestamp > quote.expiry;
    if (agrees) return;
    findings.fail({
      check: "fx.quotes",
      message:
        item.args.reason === QUOTE_EXHAUSTED
          ? "the FX module skipped a payment as QuoteExhausted, but its quote had room for it"
          : "the FX module skipped a payment as QuoteOutOfWindow, but its quote was valid then",
      evidence: item.at,
      details: { quoteHash, used: String(used), receiveAmount: String(payment.receiveAmount) },
    });
  }

  /**
   * Whether the payer signed the payment, as `SignatureLib.isValidCalldata` decides: ECDSA for 64 or 65
   * bytes, else (or if ECDSA fails) ERC-1271 when the payer is a contract; undefined (reported) when the
   * node has no state to ask the wallet.
   */
  async #isSignedByPayer(request: FxRequest, id: Hex, item: ItemEvent): Promise<boolean | undefined> {
    const { client, findings } = this.#context;
    const payer = request.payment.payer.toLowerCase();
    if (BigInt(payer) === 0n) return false;
    if ((await this.#recover(id, request.payerSignature)) === payer) return true;
    return auditErc1271Signature(client, findings, "signatures.payer", {
      account: request.payment.payer,
      digest: id,
      signature: request.payerSignature,
      blockNumber: BigInt(item.at.blockNumber),
      ledger: this.#fx,
      evidence: item.at,
    });
  }

  /** Whether a relayer key of the quote's provider bank signed it, at a usable rate (`_isSignedByProvider`). */
  async #isSignedByProvider(request: FxRequest): Promise<boolean> {
    const { quote } = request;
    if (quote.provider === 0 || quote.rate === 0n) return false;
    const digest = hashTypedData({
      domain: this.#domain,
      types: fxTypes,
      primaryType: "FxQuote",
      message: quote,
    });
    const signer = await this.#recover(digest, request.quoteSignature);
    return (
      signer !== undefined &&
      BigInt(signer) !== 0n &&
      this.#context.replay.isRelayerOf(signer, quote.provider)
    );
  }

  async #recover(digest: Hex, signature: Hex): Promise<Address | undefined> {
    const compact = toRecoverableCompact(signature);
    if (compact === undefined) return undefined;
    const { recoverer } = this.#context;
    await recoverer.whenReady();
    const [signer] = await recoverer.recover([{ digest, signature: compact }]);
    return signer;
  }

  /** The FX module settles only with a valid payer signature and skips as InvalidSignature only without. */
  #judgePayerSignature(item: ItemEvent, valid: boolean): void {
    const { findings } = this.#context;
    findings.examined("signatures.payer");
    const refusedForSignature =
      item.eventName === "PaymentRejected" && item.args.reason === INVALID_SIGNATURE;
    if (valid === !refusedForSignature) return;
    findings.fail({
      check: "signatures.payer",
      message:
        item.eventName === "CrossCurrencySettled"
          ? "a settled cross-currency payment's payer signature is not valid under the FX module's EIP-712 domain"
          : refusedForSignature
            ? "the FX module skipped a payment as InvalidSignature, but its signature is valid"
            : "a cross-currency payment skipped for another reason carries an invalid signature",
      evidence: item.at,
      details: { paymentId: item.args.paymentId, payer: item.args.payer },
    });
  }
}

/** Field-by-field differences between what the calldata says and what the events (or the rules) say. */
class Differences {
  readonly details: Record<string, string> = {};

  get any(): boolean {
    return Object.keys(this.details).length > 0;
  }

  compare(field: string, expected: unknown, actual: unknown): void {
    const a = String(expected).toLowerCase();
    const b = String(actual).toLowerCase();
    if (a !== b) this.details[field] = `expected ${a}, found ${b}`;
  }

  add(field: string, problem: string): void {
    this.details[field] = problem;
  }
}
