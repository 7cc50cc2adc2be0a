import { defineRoute } from "./route.ts";

/** `GET /metrics`: Prometheus text exposition. */
export const getMetrics = defineRoute({
  method: "GET",
  path: "/metrics",
  operationId: "getMetrics",
  summary: "Prometheus metrics",
  auth: false,
  responses: { 200: { description: "Metrics in Prometheus text format.", contentType: "text/plain" } },
  errors: [],
  async handle(_request, { metrics }) {
    return { status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
  },
});
