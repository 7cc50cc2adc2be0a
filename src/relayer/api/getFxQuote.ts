import { z } from "zod";

import { payAmountFor, quoteStructHash } from "../../protocol/fx.ts";
import { toWireFxQuote, wireFxQuoteSchema } from "../../protocol/fxWire.ts";
import { ApiError } from "../errors.ts";
import { quoteQuerySchema } from "./quoteQuery.ts";
import { defineRoute } from "./route.ts";

/** A provider's signed quote with the amounts it implies. */
export const signedQuoteSchema = z.object({
  quote: wireFxQuoteSchema,
  quoteSignature: z
    .string()
    .meta({ description: "EIP-712 signature by a relayer key of the provider bank." }),
  quoteHash: z.string().meta({ description: "The quote's EIP-712 struct hash: the payment's `quoteHash`." }),
  payAmount: z.string().meta({ description: "What the payer pays for `amount`, minor units of `from`." }),
  receiveAmount: z.string().meta({ description: "What the merchant receives: `amount`." }),
});

/** `GET /v1/fx/quote`: this bank, as an FX provider, signs a quote (other relayers call it). */
export const getFxQuote = defineRoute({
  method: "GET",
  path: "/v1/fx/quote",
  operationId: "getFxQuote",
  summary: "Sign a quote (FX providers)",
  description:
    "Served by a relayer whose bank is an FX provider (`fx.provider`): a fresh quote at its configured rate for " +
    "the pair, valid `validitySeconds`, delivering at most `maxToAmount` over all payments that use it, signed by " +
    "its quote key. Payers' banks call it through `GET /v1/quotes`.",
  auth: true,
  query: quoteQuerySchema,
  responses: { 200: { description: "A signed quote.", schema: signedQuoteSchema } },
  errors: [
    "INVALID_QUERY",
    "UNAUTHORIZED",
    "RATE_LIMITED",
    "FX_NOT_ENABLED",
    "FX_PAIR_NOT_QUOTED",
    "QUOTE_AMOUNT_TOO_LARGE",
  ],
  async handle({ query }, { fx }) {
    if (fx.provider === undefined) throw new ApiError("FX_NOT_ENABLED", "This bank is not an FX provider.");
    const { quote, quoteSignature } = await fx.provider.quote(query.from, query.to, query.amount);
    return {
      status: 200,
      body: {
        quote: toWireFxQuote(quote),
        quoteSignature,
        quoteHash: quoteStructHash(quote),
        payAmount: payAmountFor(query.amount, quote.rate).toString(),
        receiveAmount: query.amount.toString(),
      },
    };
  },
});
