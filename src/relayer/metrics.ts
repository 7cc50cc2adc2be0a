import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prefix of every metric the relayer exports. */
export const METRIC_PREFIX = "qrsettle_relayer_";

/**
 * Every metric of one relayer instance, in its own registry (no global state, so tests can run several
 * instances in one process). Label values come from closed sets: routes, statuses, error codes, RPC method
 * names and error classes, the configured wallets.
 */
export interface RelayerMetrics {
  registry: Registry;
  httpRequests: Counter<"route" | "status">;
  httpDuration: Histogram<"route">;
  intake: Counter<"kind" | "result">;
  finalized: Counter<"kind" | "status">;
  acceptToFinal: Histogram<"kind">;
  queueDepth: Gauge<"status">;
  intakeWaiting: Gauge;
  batchItems: Histogram<"kind">;
  transactions: Counter<"kind" | "result">;
  broadcasts: Counter<"result">;
  replacements: Counter;
  reorgs: Counter;
  rpcErrors: Counter<"method" | "class">;
  walletInFlight: Gauge<"wallet">;
  chainHead: Gauge;
  webhookDeliveries: Counter<"result">;
}

/**
 * Creates the metrics of one relayer instance, plus Node.js process metrics, in a fresh registry.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.intake.inc({ kind: "payment", result: "accepted" });
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(): RelayerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;
  const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
  return {
    registry,
    httpRequests: new Counter({
      name: name("http_requests_total"),
      help: "HTTP requests answered, by route and status code.",
      labelNames: ["route", "status"],
      registers,
    }),
    httpDuration: new Histogram({
      name: name("http_request_duration_seconds"),
      help: "Time to answer an HTTP request, by route.",
      labelNames: ["route"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    intake: new Counter({
      name: name("intake_total"),
      help: "Payments and refunds received: accepted, duplicate, or the API error code they were refused with.",
      labelNames: ["kind", "result"],
      registers,
    }),
    finalized: new Counter({
      name: name("finalized_total"),
      help: "Payments and refunds that reached a final status (settled, rejected or failed).",
      labelNames: ["kind", "status"],
      registers,
    }),
    acceptToFinal: new Histogram({
      name: name("accept_to_final_seconds"),
      help: "Time from acceptance to final status.",
      labelNames: ["kind"],
      buckets: latencyBuckets,
      registers,
    }),
    queueDepth: new Gauge({
      name: name("queue_depth"),
      help: "Payments and refunds in the store by status, sampled every few seconds.",
      labelNames: ["status"],
      registers,
    }),
    intakeWaiting: new Gauge({
      name: name("intake_waiting"),
      help: "Submissions waiting for room in the queue (api.maxQueued).",
      registers,
    }),
    batchItems: new Histogram({
      name: name("batch_items"),
      help: "Items per submitted batch transaction.",
      labelNames: ["kind"],
      buckets: [1, 5, 10, 25, 50, 100, 200, 400, 800],
      registers,
    }),
    transactions: new Counter({
      name: name("transactions_total"),
      help: "Batch transactions finished: confirmed, reverted, or dropped (nonce taken by another transaction).",
      labelNames: ["kind", "result"],
      registers,
    }),
    broadcasts: new Counter({
      name: name("broadcasts_total"),
      help: "eth_sendRawTransaction calls by classified result.",
      labelNames: ["result"],
      registers,
    }),
    replacements: new Counter({
      name: name("replacements_total"),
      help: "Stalled transactions replaced with higher fees.",
      registers,
    }),
    reorgs: new Counter({
      name: name("reorgs_total"),
      help: "Included transactions whose block left the canonical chain.",
      registers,
    }),
    rpcErrors: new Counter({
      name: name("rpc_errors_total"),
      help: "JSON-RPC failures by method and classified error.",
      labelNames: ["method", "class"],
      registers,
    }),
    walletInFlight: new Gauge({
      name: name("wallet_in_flight"),
      help: "Unconfirmed transactions per hot wallet.",
      labelNames: ["wallet"],
      registers,
    }),
    chainHead: new Gauge({ name: name("chain_head"), help: "Latest block number seen.", registers }),
    webhookDeliveries: new Counter({
      name: name("webhook_deliveries_total"),
      help: "Webhook delivery attempts: delivered, retry (will be tried again) or failed (given up).",
      labelNames: ["result"],
      registers,
    }),
  };
}
