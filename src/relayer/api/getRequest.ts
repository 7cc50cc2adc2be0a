import { ApiError } from "../errors.ts";
import { requestView } from "../requestView.ts";
import type { RequestKind } from "../store/types.ts";
import { defineRoute, type Route } from "./route.ts";
import { requestViewSchema } from "./schemas.ts";

const ID = /^0x[0-9a-f]{64}$/;
const NOUN = { payment: "payment", refund: "refund", fx: "cross-currency payment" } as const;

function getRoute(kind: RequestKind, collection: string): Route {
  return defineRoute({
    method: "GET",
    path: `/v1/${collection}/{id}`,
    operationId: { payment: "getPayment", refund: "getRefund", fx: "getFxPayment" }[kind],
    summary: `Get a ${NOUN[kind]}'s status`,
    description:
      "`accepted` (queued), `submitted` (in a transaction; `txHash`, and `blockNumber` and `confirmations` once " +
      "mined), then final: `settled`, `rejected` (with the ledger's reason) or `failed` (with the relayer's reason).",
    auth: true,
    responses: { 200: { description: `The ${NOUN[kind]}.`, schema: requestViewSchema } },
    errors: ["NOT_FOUND", "UNAUTHORIZED", "RATE_LIMITED"],
    async handle({ params }, { store, head }) {
      const id = (params.id ?? "").toLowerCase();
      const request = ID.test(id) ? await store.getRequest(id as `0x${string}`) : undefined;
      if (request?.kind !== kind) throw new ApiError("NOT_FOUND", `No ${NOUN[kind]} ${params.id ?? ""}.`);
      return { status: 200, body: requestView(request, head()) };
    },
  });
}

/** `GET /v1/payments/{id}`. */
export const getPayment = getRoute("payment", "payments");
/** `GET /v1/refunds/{id}`. */
export const getRefund = getRoute("refund", "refunds");
/** `GET /v1/fx-payments/{id}`. */
export const getFxPayment = getRoute("fx", "fx-payments");
