import { defineRoute } from "./route.ts";

/** `GET /openapi.json`: this API's OpenAPI 3.1 document. */
export const getOpenApi = defineRoute({
  method: "GET",
  path: "/openapi.json",
  operationId: "getOpenApi",
  summary: "OpenAPI document",
  auth: false,
  responses: { 200: { description: "The OpenAPI 3.1 document of this API." } },
  errors: [],
  handle: (_request, { openApi }) => Promise.resolve({ status: 200, body: openApi() }),
});
