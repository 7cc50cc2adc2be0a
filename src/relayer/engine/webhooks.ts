import { createHmac } from "node:crypto";

import type { ApiClientConfig, RelayerConfig } from "../config.ts";
import { RelayerError } from "../errors.ts";
import type { RelayerLogger } from "../logger.ts";
import type { RelayerMetrics } from "../metrics.ts";
import type { RelayerStore, WebhookDelivery } from "../store/types.ts";

/** Header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "x-qrsettle-signature";
const POLL_MS = 250;
const BATCH = 20;

/**
 * The signature header value of a webhook body: HMAC-SHA256 under the client's secret of the timestamp, a dot
 * and the exact body, as Stripe-style receivers expect (the timestamp stops replays of old deliveries).
 *
 * @example
 * signWebhook(secret, body, Math.floor(Date.now() / 1000)); // "t=1764000000,v1=3f2a…"
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Delivers the webhook outbox: every final status of a client's payment or refund is POSTed to its
 * `webhookUrl`, signed with its secret, and retried with exponential backoff (doubling from
 * `initialBackoffMs` up to `maxBackoffMs`) until a 2xx answer or `maxAttempts`. Deliveries are rows in the
 * store, written in the same commit as the status, so a crash loses none (a receiver may see one twice).
 *
 * @example
 * const webhooks = new WebhookDispatcher({ config, store, metrics, logger, env: process.env });
 * webhooks.start();
 */
export class WebhookDispatcher {
  readonly #config: RelayerConfig["webhooks"];
  readonly #store: RelayerStore;
  readonly #metrics: RelayerMetrics;
  readonly #logger: RelayerLogger;
  readonly #clients = new Map<string, { url: string; secret: string }>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: {
    config: RelayerConfig;
    store: RelayerStore;
    metrics: RelayerMetrics;
    logger: RelayerLogger;
    env: NodeJS.ProcessEnv;
  }) {
    this.#config = deps.config.webhooks;
    this.#store = deps.store;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
    for (const client of deps.config.api.clients) {
      if (client.webhookUrl === undefined) continue;
      this.#clients.set(client.id, { url: client.webhookUrl, secret: webhookSecret(client, deps.env) });
    }
  }

  start(): void {
    if (this.#clients.size === 0) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.deliverDue()
        .catch((error: unknown) => {
          this.#logger.error({ err: error }, "webhook delivery round failed");
        })
        .finally(() => (this.#running = undefined));
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Delivers every due webhook once. */
  async deliverDue(): Promise<void> {
    const now = Date.now();
    const due = await this.#store.claimWebhooks(now, BATCH, now + 2 * this.#config.timeoutMs);
    await Promise.all(due.map((delivery) => this.#deliver(delivery)));
  }

  async #deliver(delivery: WebhookDelivery): Promise<void> {
    const target = this.#clients.get(delivery.client);
    let error: string;
    if (target === undefined) {
      error = "client has no webhook";
    } else {
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [SIGNATURE_HEADER]: signWebhook(target.secret, delivery.payload, Math.floor(Date.now() / 1000)),
            "x-qrsettle-delivery": String(delivery.id),
          },
          body: delivery.payload,
          signal: AbortSignal.timeout(this.#config.timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) {
          await this.#store.completeWebhook(delivery.id, { delivered: true });
          this.#metrics.webhookDeliveries.inc({ result: "delivered" });
          return;
        }
        error = `HTTP ${response.status}`;
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
      }
    }
    const attempts = delivery.attempts + 1;
    if (attempts >= this.#config.maxAttempts) {
      await this.#store.completeWebhook(delivery.id, { delivered: false, error });
      this.#metrics.webhookDeliveries.inc({ result: "failed" });
      this.#logger.error({ delivery: delivery.id, client: delivery.client, error }, "webhook given up");
      return;
    }
    const backoff = Math.min(this.#config.maxBackoffMs, this.#config.initialBackoffMs * 2 ** (attempts - 1));
    await this.#store.completeWebhook(delivery.id, {
      delivered: false,
      retryAt: Date.now() + backoff,
      error,
    });
    this.#metrics.webhookDeliveries.inc({ result: "retry" });
  }
}

function webhookSecret(client: ApiClientConfig, env: NodeJS.ProcessEnv): string {
  const secret = client.webhookSecretEnv === undefined ? undefined : env[client.webhookSecretEnv];
  if (secret === undefined || secret === "") {
    throw new RelayerError(
      "WEBHOOK_SECRET_MISSING",
      `Client ${client.id} has a webhookUrl but its secret variable (webhookSecretEnv) is not set.`,
    );
  }
  return secret;
}
