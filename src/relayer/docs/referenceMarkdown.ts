/**
 * The generated parts of `docs/relayer.md`: the configuration reference (from the config schema) and the HTTP
 * API reference (from the served OpenAPI document). A test keeps the document equal to them.
 */
import { API_ERRORS } from "../api/errorCodes.ts";
import { configKeys } from "../config.ts";

interface JsonSchema {
  type?: string;
  description?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  default?: unknown;
}

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  security: unknown[];
  parameters?: { name: string; in: string; required: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  "x-error-codes": string[];
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function typeOf(schema: JsonSchema): string {
  if (schema.enum !== undefined) return schema.enum.map((value) => `\`${String(value)}\``).join(" | ");
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.anyOf !== undefined) return schema.anyOf.map(typeOf).join(" or ");
  if (schema.type === "array") return `array of ${schema.items === undefined ? "any" : typeOf(schema.items)}`;
  return schema.type ?? "any";
}

/** Leaf fields of an object schema, with dotted names. */
function fields(schema: JsonSchema, prefix = ""): { name: string; schema: JsonSchema; required: boolean }[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const path = `${prefix}${name}`;
    const required = schema.required?.includes(name) ?? false;
    return child.type === "object" && child.properties !== undefined
      ? fields(child, `${path}.`)
      : [{ name: path, schema: child, required }];
  });
}

function fieldTable(rows: { name: string; schema: JsonSchema; required: boolean }[]): string[] {
  return [
    "| field | type | required | notes |",
    "| --- | --- | --- | --- |",
    ...rows.map(
      ({ name, schema, required }) =>
        `| \`${name}\` | ${cell(typeOf(schema))} | ${required ? "yes" : "no"} | ${cell(
          schema.description ?? (schema.pattern === undefined ? "" : `matches \`${schema.pattern}\``),
        )} |`,
    ),
  ];
}

/**
 * Markdown table of every configuration key: type, default, environment variable and meaning.
 *
 * @example
 * process.stdout.write(renderConfigReference());
 */
export function renderConfigReference(): string {
  const lines = [
    "| key | type | default | environment variable | meaning |",
    "| --- | --- | --- | --- | --- |",
    ...configKeys().map(
      (key) =>
        `| \`${key.path.join(".")}\` | ${key.values === undefined ? key.type : key.values.map((value) => `\`${value}\``).join(" \\| ")} | ${
          key.default === undefined ? "(required)" : `\`${JSON.stringify(key.default)}\``
        } | \`${key.env}\` | ${cell(key.description)} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Markdown reference of the HTTP API from its OpenAPI document: every operation with its authentication,
 * parameters, body fields, responses and error codes, then the table of all error codes.
 *
 * @example
 * process.stdout.write(renderApiReference(openApiDocument(ROUTES, "0.1.0")));
 */
export function renderApiReference(document: Record<string, unknown>): string {
  const lines: string[] = [];
  const paths = document.paths as Record<string, Record<string, Operation>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      lines.push(`### \`${method.toUpperCase()} ${path}\` — ${operation.summary}`, "");
      if (operation.description !== undefined) lines.push(operation.description, "");
      lines.push(
        `Authentication: ${operation.security.length > 0 ? "API key (`Authorization: Bearer <key>`)" : "none"}.`,
        "",
      );
      const parameters = operation.parameters ?? [];
      if (parameters.length > 0) {
        lines.push("Parameters:", "");
        lines.push(
          ...fieldTable(
            parameters.map((parameter) => ({
              name: `${parameter.name} (${parameter.in})`,
              schema: parameter.schema,
              required: parameter.required,
            })),
          ),
          "",
        );
      }
      const body = operation.requestBody?.content["application/json"]?.schema;
      if (body !== undefined) lines.push("Body (`application/json`):", "", ...fieldTable(fields(body)), "");
      lines.push("Responses:", "");
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) continue;
        lines.push(`- \`${status}\`: ${response.description}`);
      }
      const codes = operation["x-error-codes"];
      lines.push(
        "",
        codes.length > 0 ? `Errors: ${codes.map((code) => `\`${code}\``).join(", ")}.` : "Errors: none.",
        "",
      );
    }
  }
  lines.push(
    "### Error codes",
    "",
    'Every error answers `{"error": {"code": "…", "number": …, "message": "…"}}` with the HTTP status below.',
    "",
    "| code | number | HTTP status | meaning |",
    "| --- | --- | --- | --- |",
    ...Object.entries(API_ERRORS).map(
      ([code, { number, status, meaning }]) => `| \`${code}\` | ${number} | ${status} | ${cell(meaning)} |`,
    ),
  );
  return `${lines.join("\n")}\n`;
}
