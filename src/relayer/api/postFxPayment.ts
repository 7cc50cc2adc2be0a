import { wireSignedFxPaymentSchema } from "../../protocol/fxWire.ts";
import { defineRoute } from "./route.ts";
import { PAYMENT_CHECK_ERRORS, SUBMIT_ERRORS, SUBMIT_STATE_ERRORS, submitResponses } from "./schemas.ts";

/** `POST /v1/fx-payments`: a customer's signed cross-currency payment with its signed quote, validated and queued. */
export const postFxPayment = defineRoute({
  method: "POST",
  path: "/v1/fx-payments",
  operationId: "postFxPayment",
  summary: "Submit a signed cross-currency payment",
  description:
    "The payer pays `payAmount` of `payCurrency` at this bank; the merchant receives `receiveAmount` of " +
    "`receiveCurrency` at its bank, at a provider's quote (from `GET /v1/quotes`). Validated like a payment, plus the " +
    "quote: signed by a relayer key of its provider bank, valid now, bound by the payment (`quoteHash`, currencies, " +
    "`payAmount = ceil(receiveAmount × 10^18 / rate)`), and within its maximum net of what is used and queued. Stored, " +
    "then settled by `FxSettlement.settleFxPayments` in batches of their own. The id is the `FxPayment`'s EIP-712 " +
    "digest under the FX contract's domain; the same payment again answers `200` with its status.",
  auth: true,
  mutating: true,
  body: wireSignedFxPaymentSchema,
  responses: submitResponses,
  errors: [
    ...SUBMIT_ERRORS,
    "FX_NOT_ENABLED",
    "QUOTE_MISMATCH",
    "QUOTE_INVALID",
    "QUOTE_EXPIRED",
    "QUOTE_EXHAUSTED",
    ...PAYMENT_CHECK_ERRORS,
    ...SUBMIT_STATE_ERRORS,
  ],
  async handle({ body, client }, { intake }) {
    const { status, view } = await intake.fxPayment(body, client?.id);
    return { status, body: view };
  },
});
