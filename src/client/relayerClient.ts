/**
 * A typed client of a bank relayer's HTTP API, for wallet apps and scripts: submit signed payments and
 * refunds, read their status, and wait until they are final. It only speaks HTTP; signing stays with the
 * wallet (see docs/developer.md).
 */
import type { z } from "zod";
import type { Hex } from "viem";

import { QRSettleError } from "../protocol/errors.ts";
import type { SignedPayment } from "../protocol/types.ts";
import {
  toWirePayment,
  toWireRefund,
  toWireSignedPayment,
  type WireSignedPayment,
} from "../protocol/wire.ts";
import type { Payment, Refund } from "../protocol/types.ts";
import type { WireSignedFxPayment } from "../protocol/fxWire.ts";
import type { requestViewSchema } from "../relayer/api/schemas.ts";
import type { QuoteFailure, QuoteOffer } from "../relayer/fx/quoteSources.ts";

export type { QuoteFailure, QuoteOffer };

/** What the relayer tracks: same-currency payments, refunds and cross-currency (FX) payments. */
export type RequestKind = "payment" | "refund" | "fx-payment";

/** A payment or refund as the relayer reports it (`GET /v1/payments/{id}`). */
export type RequestStatus = Omit<z.infer<typeof requestViewSchema>, "id" | "txHash"> & {
  id: Hex;
  txHash?: Hex;
};

/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES: ReadonlySet<RequestStatus["status"]> = new Set([
  "settled",
  "rejected",
  "failed",
]);

/**
 * The relayer refused a request, or could not be reached. `code` is the relayer's stable error code (e.g.
 * `INSUFFICIENT_BALANCE`, `NONCE_USED`) or `RELAYER_UNREACHABLE` / `RELAYER_BAD_ANSWER` / `RELAYER_TIMEOUT`.
 */
export class RelayerClientError extends QRSettleError {
  override name = "RelayerClientError";
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;

  constructor(
    code: string,
    message: string,
    status: number | undefined,
    details: Record<string, string> = {},
  ) {
    super(code, message, { details });
    this.status = status;
  }
}

/** Where and how to reach a relayer. */
export interface RelayerClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8545`. */
  url: string;
  /** The API key the bank issued to this client; sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** How long one HTTP call may take (default 10 s). */
  timeoutMs?: number;
}

/** How {@link RelayerClient.waitForFinal} waits. */
export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Poll interval (default 250 ms). */
  pollMs?: number;
  /** For `settled`, also wait for this many confirmations (default 1: included in a block). */
  confirmations?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A bank relayer's API.
 *
 * @example
 * const relayer = new RelayerClient({ url: "http://127.0.0.1:8600", apiKey: process.env.QRSETTLE_API_KEY! });
 * const { id } = await relayer.submitPayment({ payment, signature });
 * const final = await relayer.waitForFinal("payment", id);
 * if (final.status !== "settled") throw new Error(`payment ${final.status}: ${final.reason ?? ""}`);
 */
export class RelayerClient {
  readonly url: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(options: RelayerClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `POST /v1/payments`: queues a signed payment; the same payment again returns the same id and status. */
  submitPayment(signed: SignedPayment | WireSignedPayment): Promise<RequestStatus> {
    const wire =
      typeof signed.payment.amount === "bigint" ? toWireSignedPayment(signed as SignedPayment) : signed;
    return this.#call("POST", "/v1/payments", wire);
  }

  /** `POST /v1/refunds`: queues the payee's signed refund of `payment` (exactly as the payer signed it). */
  submitRefund(refund: Refund, payment: Payment, signature: Hex): Promise<RequestStatus> {
    return this.#call("POST", "/v1/refunds", {
      refund: toWireRefund(refund),
      payment: toWirePayment(payment),
      signature,
    });
  }

  /**
   * `GET /v1/quotes`: quotes from the bank's FX providers for the merchant to receive `amount` minor units of
   * `to`, paid in `from` (codes alphabetic, `"CNY"`, or numeric, `156`), cheapest first, with the sources that
   * could not quote and why.
   */
  quotes(query: {
    from: string | number;
    to: string | number;
    amount: bigint;
  }): Promise<{ quotes: QuoteOffer[]; errors: QuoteFailure[] }> {
    const search = new URLSearchParams({
      from: String(query.from),
      to: String(query.to),
      amount: query.amount.toString(),
    });
    return this.#call("GET", `/v1/quotes?${search.toString()}`);
  }

  /** `POST /v1/fx-payments`: queues a signed cross-currency payment with the signed quote it uses. */
  submitFxPayment(signed: WireSignedFxPayment): Promise<RequestStatus> {
    return this.#call("POST", "/v1/fx-payments", signed);
  }

  /** `GET /v1/payments/{id}`, `GET /v1/refunds/{id}` or `GET /v1/fx-payments/{id}`. */
  status(kind: RequestKind, id: Hex): Promise<RequestStatus> {
    return this.#call("GET", `/v1/${kind}s/${id}`);
  }

  /**
   * Polls until the payment or refund is final (`settled` with enough confirmations, `rejected` or `failed`)
   * and returns its last status; throws `RELAYER_TIMEOUT` if that takes longer than `timeoutMs`.
   */
  async waitForFinal(kind: RequestKind, id: Hex, options: WaitOptions = {}): Promise<RequestStatus> {
    const giveUpAt = Date.now() + (options.timeoutMs ?? 60_000);
    const confirmations = options.confirmations ?? 1;
    for (;;) {
      const current = await this.status(kind, id);
      const final =
        current.status === "settled"
          ? (current.confirmations ?? 0) >= confirmations
          : FINAL_STATUSES.has(current.status);
      if (final) return current;
      if (Date.now() > giveUpAt) {
        throw new RelayerClientError("RELAYER_TIMEOUT", `The ${kind} is not final yet.`, undefined, {
          Id: id,
          Status: current.status,
        });
      }
      await sleep(options.pollMs ?? 250);
    }
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new RelayerClientError("RELAYER_UNREACHABLE", "The relayer did not answer.", undefined, {
        Request: `${method} ${this.url}${path}`,
        Cause: cause instanceof Error ? cause.message : String(cause),
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RelayerClientError(
        "RELAYER_BAD_ANSWER",
        "The relayer's answer is not JSON.",
        response.status,
        {
          Request: `${method} ${path}`,
          Answer: text.slice(0, 200),
        },
      );
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new RelayerClientError(
        error?.code ?? "RELAYER_BAD_ANSWER",
        error?.message ?? `HTTP ${response.status}`,
        response.status,
        { Request: `${method} ${path}` },
      );
    }
    return parsed as T;
  }
}
