import { getEip712 } from "./getEip712.ts";
import { getMetrics } from "./getMetrics.ts";
import { getOpenApi } from "./getOpenApi.ts";
import { getFxQuote } from "./getFxQuote.ts";
import { getFxPayment, getPayment, getRefund } from "./getRequest.ts";
import { getQuotes } from "./getQuotes.ts";
import { getHealth, getReadiness } from "./health.ts";
import { listFxPayments, listPayments, listRefunds } from "./listRequests.ts";
import { postFxPayment } from "./postFxPayment.ts";
import { postPayment } from "./postPayment.ts";
import { postRefund } from "./postRefund.ts";
import type { Route } from "./route.ts";

/** Every route of the relayer's HTTP API, in the order the OpenAPI document lists them. */
export const ROUTES: readonly Route[] = [
  postPayment,
  getPayment,
  listPayments,
  postRefund,
  getRefund,
  listRefunds,
  getQuotes,
  postFxPayment,
  getFxPayment,
  listFxPayments,
  getFxQuote,
  getEip712,
  getHealth,
  getReadiness,
  getMetrics,
  getOpenApi,
];
