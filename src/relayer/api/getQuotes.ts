import { z } from "zod";

import { ApiError } from "../errors.ts";
import { signedQuoteSchema } from "./getFxQuote.ts";
import { quoteQuerySchema } from "./quoteQuery.ts";
import { defineRoute } from "./route.ts";

const quotesSchema = z.object({
  quotes: z
    .array(
      signedQuoteSchema.extend({
        source: z.string().meta({ description: "`self` or the provider relayer's base URL." }),
      }),
    )
    .meta({ description: "Quotes that came back, the cheapest for the payer first." }),
  errors: z
    .array(z.object({ source: z.string(), code: z.string(), message: z.string() }))
    .meta({ description: "Sources that could not quote, and why." }),
});

/** `GET /v1/quotes`: quotes for a cross-currency payment from the bank's configured providers. */
export const getQuotes = defineRoute({
  method: "GET",
  path: "/v1/quotes",
  operationId: "getQuotes",
  summary: "Get FX quotes for a cross-currency payment",
  description:
    "Asks every provider in `fx.providers` (this bank itself, or other banks' relayers) for a quote delivering " +
    "`amount` minor units of `to` against `from`, checks each quote's signature against the registry, and lists " +
    "them with `payAmount` computed by the FX contract's rounding (up). The wallet signs an `FxPayment` with the " +
    "chosen quote's `quoteHash` and amounts and posts it with the quote to `POST /v1/fx-payments`.",
  auth: true,
  query: quoteQuerySchema,
  responses: { 200: { description: "The quotes, and the sources that failed.", schema: quotesSchema } },
  errors: ["INVALID_QUERY", "UNAUTHORIZED", "RATE_LIMITED", "FX_NOT_ENABLED", "FX_PAIR_NOT_QUOTED"],
  async handle({ query }, { fx }) {
    const answer = await fx.collect(query.from, query.to, query.amount);
    if (answer.quotes.length === 0 && answer.errors.every((error) => error.code === "FX_PAIR_NOT_QUOTED")) {
      throw new ApiError("FX_PAIR_NOT_QUOTED", `No configured provider quotes ${query.from} to ${query.to}.`);
    }
    return { status: 200, body: answer };
  },
});
