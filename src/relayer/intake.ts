import type { Hex } from "viem";

import type { Payment, Refund } from "../protocol/types.ts";
import type { Admission } from "./admission.ts";
import { rpcErrorMessage } from "./chain/classifyRpcError.ts";
import { ApiError } from "./errors.ts";
import type { RelayerLogger } from "./logger.ts";
import type { RelayerMetrics } from "./metrics.ts";
import { requestView, type RequestView } from "./requestView.ts";
import type { RelayerStore, RequestKind } from "./store/types.ts";
import type { Validated } from "./validation/validatePayment.ts";
import { validatePayment } from "./validation/validatePayment.ts";
import {
  validateFxPayment,
  type FxValidationContext,
  type SignedFxPayment,
} from "./validation/validateFxPayment.ts";
import { validateRefund, type RefundValidationContext } from "./validation/validateRefund.ts";

/** The answer to a submission: `202` for a newly accepted one, `200` with the current status for a repeat. */
export interface IntakeResult {
  status: 200 | 202;
  view: RequestView;
}

/** Refusals by `store.admit` that a fresh read of the ledger may overturn. */
const FRESH_READ_CODES: readonly string[] = [
  "INSUFFICIENT_BALANCE",
  "DAILY_LIMIT_EXCEEDED",
  "REFUND_EXCEEDS_PAYMENT",
  "QUOTE_EXHAUSTED",
];

/** What intake needs. */
export interface IntakeDeps {
  validation: RefundValidationContext;
  /** Cross-currency validation, when the relayer has an FX contract (`chain.fx`). */
  fx?: FxValidationContext;
  store: RelayerStore;
  /** Backpressure: how many requests may wait for a batch. */
  admission: Admission;
  metrics: RelayerMetrics;
  logger: RelayerLogger;
  /** The latest block seen, for confirmations in answers. */
  head: () => number | undefined;
  /** Called after a request is stored (wakes the batcher). */
  onAccepted: () => void;
}

/**
 * Takes payments and refunds in: waits for room in the queue (`Admission`), validates each against the
 * ledger, stores it (the commit completes before the answer), and wakes the batcher. Nothing is stored for a
 * request that fails a check.
 *
 * @example
 * const { status, view } = await intake.payment({ payment, signature }, "wallet-app");
 */
export class Intake {
  readonly #deps: IntakeDeps;

  constructor(deps: IntakeDeps) {
    this.#deps = deps;
  }

  payment(signed: { payment: Payment; signature: Hex }, client?: string): Promise<IntakeResult> {
    return this.#take("payment", () => validatePayment(this.#deps.validation, signed, client));
  }

  refund(
    signed: { refund: Refund; payment: Payment; signature: Hex },
    client?: string,
  ): Promise<IntakeResult> {
    return this.#take("refund", () => validateRefund(this.#deps.validation, signed, client));
  }

  fxPayment(signed: SignedFxPayment, client?: string): Promise<IntakeResult> {
    const { fx } = this.#deps;
    if (fx === undefined) {
      return Promise.reject(
        new ApiError("FX_NOT_ENABLED", "This relayer settles no cross-currency payments (no chain.fx)."),
      );
    }
    return this.#take("fx", () => validateFxPayment(fx, signed, client));
  }

  async #take(kind: RequestKind, validate: () => Promise<Validated>): Promise<IntakeResult> {
    const { admission, metrics } = this.#deps;
    try {
      await admission.enter();
    } catch (error) {
      if (error instanceof ApiError) metrics.intake.inc({ kind, result: error.code });
      throw error;
    }
    let accepted = false;
    try {
      const result = await this.#check(kind, validate);
      accepted = result.status === 202;
      return result;
    } finally {
      admission.leave(accepted);
    }
  }

  async #check(kind: RequestKind, validate: () => Promise<Validated>): Promise<IntakeResult> {
    const { store, metrics, head } = this.#deps;
    const count = (result: string) => {
      metrics.intake.inc({ kind, result });
    };
    let validated: Validated;
    try {
      validated = await validate();
    } catch (error) {
      if (error instanceof ApiError) {
        count(error.code);
        throw error;
      }
      // Anything else reading the chain means it did not answer as it should: the client may retry.
      this.#deps.logger.warn({ kind, error: rpcErrorMessage(error) }, "validation could not read the chain");
      count("CHAIN_UNAVAILABLE");
      throw new ApiError("CHAIN_UNAVAILABLE", "The ledger could not be read; retry later.", { cause: error });
    }
    if ("existing" in validated) {
      count("duplicate");
      return { status: 200, view: requestView(validated.existing, head()) };
    }
    let admitted = await store.admit(validated.request, validated.limits);
    if (admitted.outcome === "refused" && FRESH_READ_CODES.includes(admitted.code)) {
      // The limits came from a cache; a deposit since then may cover it. Ask the ledger before refusing.
      admitted = await store.admit(validated.request, await validated.freshLimits());
    }
    if (admitted.outcome === "refused") {
      count(admitted.code);
      throw new ApiError(admitted.code, admitted.message);
    }
    count(admitted.outcome);
    if (admitted.outcome === "accepted") this.#deps.onAccepted();
    return {
      status: admitted.outcome === "accepted" ? 202 : 200,
      view: requestView(admitted.request, head()),
    };
  }
}
