import { wireSignedRefundSchema } from "../../protocol/wire.ts";
import { defineRoute } from "./route.ts";
import { SUBMIT_ERRORS, SUBMIT_STATE_ERRORS, submitResponses } from "./schemas.ts";

/** `POST /v1/refunds`: a merchant's signed refund of a settled payment, validated and queued. */
export const postRefund = defineRoute({
  method: "POST",
  path: "/v1/refunds",
  operationId: "postRefund",
  summary: "Submit a signed refund",
  description:
    "For the payee's bank: the payee's signed `Refund` with the original payment as the payer signed it. The relayer " +
    "finds the payment's `PaymentSettled` event and builds the Merkle proof against its batch root, checks the " +
    "payee's signature, nonce and balance and what remains refundable net of queued refunds, stores it and answers " +
    "`202` (or `200` with the current status for a repeat).",
  auth: true,
  mutating: true,
  body: wireSignedRefundSchema,
  responses: submitResponses,
  errors: [
    ...SUBMIT_ERRORS,
    "REFUND_MISMATCH",
    "NOT_PAYEE_BANK",
    "SIGNATURE_MALFORMED",
    "SIGNATURE_MALLEABLE",
    "SIGNATURE_INVALID",
    "PAYMENT_EXPIRED",
    "CURRENCY_NOT_SUPPORTED",
    "PAYER_NOT_CUSTOMER",
    "PAYER_FROZEN",
    "NONCE_USED",
    "NONCE_IN_QUEUE",
    "NONCE_OUT_OF_WINDOW",
    "AMOUNT_INVALID",
    "PAYMENT_NOT_SETTLED",
    "INSUFFICIENT_BALANCE",
    "REFUND_EXCEEDS_PAYMENT",
    ...SUBMIT_STATE_ERRORS,
  ],
  async handle({ body, client }, { intake }) {
    const { status, view } = await intake.refund(body, client?.id);
    return { status, body: view };
  },
});
