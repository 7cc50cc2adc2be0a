import { z } from "zod";

import { defineRoute } from "./route.ts";

/** `GET /healthz`: the process serves HTTP (liveness). */
export const getHealth = defineRoute({
  method: "GET",
  path: "/healthz",
  operationId: "getHealth",
  summary: "Liveness",
  auth: false,
  responses: { 200: { description: "The process is up.", schema: z.object({ status: z.literal("ok") }) } },
  errors: [],
  handle: () => Promise.resolve({ status: 200, body: { status: "ok" } }),
});

/** `GET /readyz`: the relayer can take and settle payments (readiness). */
export const getReadiness = defineRoute({
  method: "GET",
  path: "/readyz",
  operationId: "getReadiness",
  summary: "Readiness",
  description:
    "Ready when the store answers, the chain answered within the last few polls, this instance holds at least one " +
    "hot wallet, the last batch could be built, and it is not draining. Each check is reported.",
  auth: false,
  responses: {
    200: {
      description: "Ready.",
      schema: z.object({ ready: z.literal(true), checks: z.record(z.string(), z.string()) }),
    },
    503: {
      description: "Not ready; `checks` says why.",
      schema: z.object({ ready: z.literal(false), checks: z.record(z.string(), z.string()) }),
    },
  },
  errors: [],
  async handle(_request, { readiness }) {
    const result = await readiness();
    return { status: result.ready ? 200 : 503, body: result };
  },
});
