import { wireSignedPaymentSchema } from "../../protocol/wire.ts";
import { defineRoute } from "./route.ts";
import { PAYMENT_CHECK_ERRORS, SUBMIT_ERRORS, SUBMIT_STATE_ERRORS, submitResponses } from "./schemas.ts";

/** `POST /v1/payments`: a customer's signed payment, validated and queued. */
export const postPayment = defineRoute({
  method: "POST",
  path: "/v1/payments",
  operationId: "postPayment",
  summary: "Submit a signed payment",
  description:
    "Validates the payment (schema, signature, payer a customer of this bank, payee and its bank, amount, nonce unused " +
    "on chain and in the queue, deadline, balance and daily limit net of what is queued), stores it and answers `202`. " +
    "The same payment again answers `200` with its id and current status; it is never settled twice.",
  auth: true,
  mutating: true,
  body: wireSignedPaymentSchema,
  responses: submitResponses,
  errors: [...SUBMIT_ERRORS, ...PAYMENT_CHECK_ERRORS, ...SUBMIT_STATE_ERRORS],
  async handle({ body, client }, { intake }) {
    const { status, view } = await intake.payment(body, client?.id);
    return { status, body: view };
  },
});
