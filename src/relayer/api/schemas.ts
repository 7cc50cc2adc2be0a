/** Response schemas shared by several routes; request schemas live with their route. */
import { z } from "zod";

import { API_ERRORS } from "./errorCodes.ts";

/** A payment or refund as the API shows it. */
export const requestViewSchema = z.object({
  id: z.string().meta({ description: "Payment id (or refund id): the EIP-712 digest, 0x-hex." }),
  status: z.enum(["accepted", "submitted", "settled", "rejected", "failed"]),
  reason: z.string().optional().meta({
    description: "For `rejected`, the ledger's RejectReason name; for `failed`, why it could not settle.",
  }),
  txHash: z.string().optional().meta({ description: "The transaction carrying it." }),
  blockNumber: z.number().int().optional(),
  confirmations: z.number().int().optional().meta({ description: "Blocks from its block to the head." }),
});

/** Every error answer. */
export const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(API_ERRORS) as [keyof typeof API_ERRORS, ...(keyof typeof API_ERRORS)[]]),
    number: z.number().int(),
    message: z.string(),
  }),
});

/** A page of the change feed. */
export const requestPageSchema = z.object({
  items: z.array(requestViewSchema),
  next: z.string().meta({ description: "Cursor to pass as `since` for the next page." }),
});

/** What every `POST` of a signed request answers: new and stored, or seen before. */
export const submitResponses = {
  202: { description: "Accepted and stored.", schema: requestViewSchema },
  200: { description: "Already received: its current status.", schema: requestViewSchema },
};

/** Errors every `POST` of a signed request can answer before its content is looked at. */
export const SUBMIT_ERRORS = [
  "MALFORMED_JSON",
  "BODY_TOO_LARGE",
  "INVALID_REQUEST",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNAUTHORIZED",
  "RATE_LIMITED",
] as const;

/** Errors every `POST` of a signed request can answer when the relayer cannot take it now, whatever it is. */
export const SUBMIT_STATE_ERRORS = ["CHAIN_UNAVAILABLE", "SHUTTING_DOWN", "QUEUE_FULL"] as const;

/** The checks of a signed payment, same-currency or cross-currency, in the order they run. */
export const PAYMENT_CHECK_ERRORS = [
  "SIGNATURE_MALFORMED",
  "SIGNATURE_MALLEABLE",
  "SIGNATURE_INVALID",
  "PAYMENT_EXPIRED",
  "CURRENCY_NOT_SUPPORTED",
  "UNKNOWN_BANK",
  "PAYER_NOT_CUSTOMER",
  "PAYER_FROZEN",
  "PAYEE_NOT_CUSTOMER",
  "PAYEE_FROZEN",
  "NONCE_USED",
  "NONCE_IN_QUEUE",
  "NONCE_OUT_OF_WINDOW",
  "AMOUNT_INVALID",
  "INSUFFICIENT_BALANCE",
  "DAILY_LIMIT_EXCEEDED",
] as const;
