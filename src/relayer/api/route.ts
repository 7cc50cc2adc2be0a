import type { z } from "zod";

import type { ApiClientConfig } from "../config.ts";
import type { QuoteProvider } from "../fx/quoteProvider.ts";
import type { QuoteFailure, QuoteOffer } from "../fx/quoteSources.ts";
import type { Intake } from "../intake.ts";
import type { RelayerMetrics } from "../metrics.ts";
import type { RelayerStore } from "../store/types.ts";
import type { ApiErrorCode } from "./errorCodes.ts";

/** What route handlers may use. */
export interface ApiContext {
  intake: Intake;
  store: RelayerStore;
  metrics: RelayerMetrics;
  /** The latest block the relayer has seen, for confirmations. */
  head: () => number | undefined;
  /** The EIP-712 domain and types wallets sign with. */
  eip712: unknown;
  /** Readiness: every check and whether all pass. */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** The OpenAPI document of this API. */
  openApi: () => unknown;
  /** Quotes: this bank's own provider (if it is one) and the configured sources. */
  fx: {
    provider?: QuoteProvider;
    collect(
      from: number,
      to: number,
      amount: bigint,
    ): Promise<{ quotes: QuoteOffer[]; errors: QuoteFailure[] }>;
  };
}

/** A handler's answer: JSON unless `contentType` says otherwise (then `body` is text). */
export interface RouteResult {
  status: number;
  body: unknown;
  contentType?: string;
}

/** A validated request as a handler sees it. */
export interface RouteRequest<Body, Query> {
  params: Record<string, string>;
  body: Body;
  query: Query;
  client?: ApiClientConfig;
}

/**
 * One API method: its path, schemas (which validate requests and document them in the OpenAPI document),
 * responses, the error codes it may answer with, and its handler. Each lives in its own file.
 */
export interface Route<Body = unknown, Query = unknown> {
  method: "GET" | "POST";
  /** OpenAPI path template, e.g. `/v1/payments/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Whether a client API key is needed (when `api.auth` is `required`). */
  auth: boolean;
  /** Whether it changes state: refused while the relayer drains. */
  mutating?: boolean;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  errors: readonly ApiErrorCode[];
  handle(request: RouteRequest<Body, Query>, context: ApiContext): Promise<RouteResult>;
}

/**
 * Declares a route, keeping its handler typed by its schemas, for a list of routes of mixed types.
 *
 * @example
 * export const getPayment = defineRoute({ method: "GET", path: "/v1/payments/{id}", ... });
 */
export function defineRoute<Body, Query>(route: Route<Body, Query>): Route {
  return route;
}
