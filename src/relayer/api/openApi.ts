import { z } from "zod";

import { API_ERRORS, type ApiErrorCode } from "./errorCodes.ts";
import type { Route } from "./route.ts";
import { errorSchema } from "./schemas.ts";

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

/** The error codes a route answers with, grouped by HTTP status. */
function errorResponses(codes: readonly ApiErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of [...codes, "INTERNAL" as const]) {
    const { status } = API_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((code) => `\`${code}\` (${API_ERRORS[code].number})`).join(", "),
        content: { "application/json": { schema: jsonSchema(errorSchema) } },
      },
    ]),
  );
}

/**
 * The OpenAPI 3.1 document of the relayer's API, generated from the routes' own zod schemas, so the document
 * cannot drift from what the server validates. `x-error-codes` lists every stable error code.
 *
 * @example
 * const document = openApiDocument(ROUTES, "0.1.0");
 */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: unknown[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (route.query !== undefined) {
      const query = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: "query", required: query.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema === undefined && response.contentType === undefined
          ? {}
          : {
              content: {
                [response.contentType ?? "application/json"]: {
                  schema: response.schema === undefined ? { type: "string" } : jsonSchema(response.schema),
                },
              },
            }),
      };
    }
    Object.assign(responses, errorResponses(route.errors));
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.description === undefined ? {} : { description: route.description }),
        security: route.auth ? [{ apiKey: [] }] : [],
        ...(parameters.length === 0 ? {} : { parameters }),
        ...(route.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: { "application/json": { schema: jsonSchema(route.body) } },
              },
            }),
        responses,
        "x-error-codes": route.errors,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "QRSettle relayer API",
      version,
      description:
        "A bank's relayer: takes its customers' signed QR payments and its merchants' signed refunds, settles them " +
        "on the QRSettle ledger in batches, and reports their status.",
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key; the relayer stores only its sha256.",
        },
      },
    },
    "x-error-codes": Object.fromEntries(
      Object.entries(API_ERRORS).map(([code, { number, status, meaning }]) => [
        code,
        { number, status, meaning },
      ]),
    ),
  };
}
