import { z } from "zod";

import { payAmountFor, quoteStructHash, type FxQuote } from "../../protocol/fx.ts";
import { toWireFxQuote, wireSignedFxQuoteSchema, type WireFxQuote } from "../../protocol/fxWire.ts";
import type { RelayerConfig } from "../config.ts";
import { ApiError } from "../errors.ts";
import type { SignedQuote, QuoteProvider } from "./quoteProvider.ts";

/** One provider's signed quote with the amounts it implies, as `GET /v1/quotes` lists it. */
export interface QuoteOffer {
  /** `self` or the provider relayer's base URL. */
  source: string;
  quote: WireFxQuote;
  quoteSignature: string;
  /** What the payer's `FxPayment.quoteHash` must be. */
  quoteHash: string;
  /** What the payer pays, in minor units of `from`: the contract's rounding (up). */
  payAmount: string;
  /** What the merchant receives, in minor units of `to`: the amount asked for. */
  receiveAmount: string;
}

/** A source that could not quote, and why. */
export interface QuoteFailure {
  source: string;
  code: string;
  message: string;
}

/** What quote collection needs. */
export interface QuoteSourcesDeps {
  sources: RelayerConfig["fx"]["providers"];
  /** This bank's provider, for a `self` source. */
  provider?: QuoteProvider;
  /** Checks a remote quote's signature against the registry. */
  isSigned: (quote: FxQuote, quoteSignature: `0x${string}`) => Promise<boolean>;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

/** A provider's answer: the signed quote (the amounts it adds are recomputed here, not trusted). */
const providerAnswer = z.object(wireSignedFxQuoteSchema.shape);
const errorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The signed quote from one source; throws with a code on any failure. */
async function quoteFrom(
  deps: QuoteSourcesDeps,
  source: QuoteSourcesDeps["sources"][number],
  from: number,
  to: number,
  amount: bigint,
): Promise<SignedQuote> {
  if (source.url === "self") {
    if (deps.provider === undefined) {
      throw new ApiError("FX_NOT_ENABLED", "fx.providers lists self, but fx.provider is not configured.");
    }
    return deps.provider.quote(from, to, amount);
  }
  const url = new URL(`${source.url.replace(/\/$/, "")}/v1/fx/quote`);
  url.search = new URLSearchParams({ from: String(from), to: String(to), amount: String(amount) }).toString();
  const key = source.apiKeyEnv === undefined ? undefined : deps.env[source.apiKeyEnv];
  const response = await (deps.fetch ?? fetch)(url, {
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(deps.timeoutMs),
  });
  const body: unknown = await response.json();
  if (!response.ok) {
    const parsed = errorAnswer.safeParse(body);
    throw Object.assign(new Error(parsed.success ? parsed.data.error.message : `HTTP ${response.status}`), {
      code: parsed.success ? parsed.data.error.code : "PROVIDER_ERROR",
    });
  }
  const signed = providerAnswer.parse(body);
  const quote: FxQuote = signed.quote;
  if (!(await deps.isSigned(quote, signed.quoteSignature))) {
    throw new ApiError("QUOTE_INVALID", "The provider's quote is not signed by a relayer key of its bank.");
  }
  return { quote, quoteSignature: signed.quoteSignature };
}

/**
 * Asks every configured source for a quote delivering `amount` minor units of `to` against `from`, all at
 * once, and lists the quotes that came back (cheapest for the payer first) and the sources that failed.
 * Quotes from other relayers are checked like any the relayer would settle: signed by a relayer key of the
 * provider bank they name, for the pair asked.
 *
 * @example
 * const { quotes } = await collectQuotes(deps, 156, 344, 108_50n);
 */
export async function collectQuotes(
  deps: QuoteSourcesDeps,
  from: number,
  to: number,
  amount: bigint,
): Promise<{ quotes: QuoteOffer[]; errors: QuoteFailure[] }> {
  const results = await Promise.allSettled(
    deps.sources.map((source) => quoteFrom(deps, source, from, to, amount)),
  );
  const quotes: QuoteOffer[] = [];
  const errors: QuoteFailure[] = [];
  results.forEach((result, index) => {
    const source = (deps.sources[index] as QuoteSourcesDeps["sources"][number]).url;
    if (result.status === "rejected") {
      const error = result.reason as { code?: unknown; shortMessage?: unknown; message?: unknown };
      const message = [error.shortMessage, error.message].find((text) => typeof text === "string");
      errors.push({
        source,
        code: typeof error.code === "string" ? error.code : "PROVIDER_UNAVAILABLE",
        message: message ?? "no answer",
      });
      return;
    }
    const { quote, quoteSignature } = result.value;
    if (quote.fromCurrency !== from || quote.toCurrency !== to || quote.maxToAmount < amount) {
      errors.push({
        source,
        code: "QUOTE_MISMATCH",
        message: "The quote is not for the pair and amount asked.",
      });
      return;
    }
    quotes.push({
      source,
      quote: toWireFxQuote(quote),
      quoteSignature,
      quoteHash: quoteStructHash(quote),
      payAmount: payAmountFor(amount, quote.rate).toString(),
      receiveAmount: amount.toString(),
    });
  });
  quotes.sort((a, b) =>
    BigInt(a.payAmount) < BigInt(b.payAmount) ? -1 : BigInt(a.payAmount) > BigInt(b.payAmount) ? 1 : 0,
  );
  return { quotes, errors };
}
