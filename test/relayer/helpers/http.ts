/** A small JSON client for the relayer's API. */
import type { WireSignedPayment } from "../../../src/protocol/index.ts";
import { API_KEY } from "./relayer.ts";

/** An API answer. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Sends a request to the relayer, with the test API key unless `key` is null.
 *
 * @example
 * const { status, body } = await call(url, "POST", "/v1/payments", signed);
 */
export async function call(
  url: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  options: { key?: string | null; contentType?: string; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? API_KEY}`;
  if (body !== undefined || options.raw !== undefined)
    headers["content-type"] = options.contentType ?? "application/json";
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body !== undefined || options.raw !== undefined ? { body: options.raw ?? JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text.startsWith("{") ? JSON.parse(text) : { text }) as Record<string, unknown>,
  };
}

/** Posts a signed payment. */
export function postPayment(url: string, signed: WireSignedPayment): Promise<Answer> {
  return call(url, "POST", "/v1/payments", signed);
}

/**
 * Polls until every id has a final status (settled, rejected or failed), or throws after `timeoutMs`.
 *
 * @example
 * const statuses = await waitForFinal(url, ids, 60_000);
 */
export async function waitForFinal(
  url: string,
  ids: readonly string[],
  timeoutMs: number,
  collection: "payments" | "refunds" | "fx-payments" = "payments",
): Promise<Map<string, Record<string, unknown>>> {
  const final = new Map<string, Record<string, unknown>>();
  const deadline = Date.now() + timeoutMs;
  let since = "0";
  const wanted = new Set(ids.map((id) => id.toLowerCase()));
  while (final.size < wanted.size) {
    const { status, body } = await call(url, "GET", `/v1/${collection}?since=${since}&limit=1000`);
    if (status !== 200) throw new Error(`list answered ${status}: ${JSON.stringify(body)}`);
    for (const item of body.items as Record<string, unknown>[]) {
      const id = String(item.id);
      if (wanted.has(id) && ["settled", "rejected", "failed"].includes(String(item.status)))
        final.set(id, item);
    }
    since = String(body.next);
    if ((body.items as unknown[]).length < 1000) {
      if (Date.now() > deadline) {
        throw new Error(
          `${wanted.size - final.size} of ${wanted.size} payments not final after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return final;
}
