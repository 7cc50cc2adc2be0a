import { z } from "zod";

import { requestView } from "../requestView.ts";
import type { RequestKind } from "../store/types.ts";
import { defineRoute, type Route } from "./route.ts";
import { requestPageSchema } from "./schemas.ts";

const querySchema = z.strictObject({
  status: z.enum(["accepted", "submitted", "settled", "rejected", "failed"]).optional(),
  since: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, { error: "must be a cursor returned as `next`, or 0" })
    .default("0")
    .transform(Number),
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,4}$/, { error: "must be an integer from 1 to 1000" })
    .default("100")
    .transform(Number)
    .refine((limit) => limit <= 1000, { error: "must be at most 1000" }),
});

function listRoute(kind: RequestKind, collection: string): Route {
  return defineRoute({
    method: "GET",
    path: `/v1/${collection}`,
    operationId: { payment: "listPayments", refund: "listRefunds", fx: "listFxPayments" }[kind],
    summary: `List ${collection} by change`,
    description:
      `A change feed: ${collection} whose status changed after the cursor \`since\`, oldest change first, ` +
      "optionally only those now in `status`. Pass the answer's `next` as `since` to continue; a page shorter than " +
      "`limit` means the feed is caught up.",
    auth: true,
    query: querySchema,
    responses: { 200: { description: "A page of the feed.", schema: requestPageSchema } },
    errors: ["INVALID_QUERY", "UNAUTHORIZED", "RATE_LIMITED"],
    async handle({ query }, { store, head }) {
      const filter = {
        kind,
        since: query.since,
        limit: query.limit,
        ...(query.status === undefined ? {} : { status: query.status }),
      };
      const page = await store.listRequests(filter);
      const tip = head();
      return {
        status: 200,
        body: { items: page.items.map((item) => requestView(item, tip)), next: String(page.next) },
      };
    },
  });
}

/** `GET /v1/payments?status=&since=&limit=`. */
export const listPayments = listRoute("payment", "payments");
/** `GET /v1/refunds?status=&since=&limit=`. */
export const listRefunds = listRoute("refund", "refunds");
/** `GET /v1/fx-payments`. */
export const listFxPayments = listRoute("fx", "fx-payments");
