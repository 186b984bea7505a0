/**
 * Builds the OpenAPI 3.1 document of the API from the route table and its zod schemas. Run at
 * build time by `npm run openapi` (scripts/openapi.mjs), which writes ./openapi.json for the worker
 * to serve: the generator (zod's JSON Schema output) stays out of the deployed bundle, and a test
 * fails when the committed document is not what this produces.
 */
import * as z from "zod/mini";
import { ERROR_CODES, type ErrorCode, statusOf } from "../../errors";
import { API_ROUTES, type ApiRoute } from "./contract";
import { errorSchema } from "./schemas";

type JsonSchema = Record<string, unknown>;

const REF_PREFIX = "#/components/schemas/";

/** Errors any route of a kind may answer, besides its own. */
function commonErrors(route: ApiRoute): ErrorCode[] {
  const codes: ErrorCode[] = ["misconfigured", "internal_error"];
  if (route.auth !== "none") codes.push("unauthorized", "api_disabled", "method_not_allowed");
  if (route.query || route.params || route.headers) codes.push("validation_failed");
  if (route.body) codes.push("bad_json", "validation_failed", "payload_too_large");
  return codes;
}

/**
 * One schema as JSON Schema, named sub-schemas (`.meta({id})`) moved to `components` and referred
 * to there. Requests are described as clients send them (`io: "input"`), answers as they arrive.
 */
function toSchema(schema: z.ZodMiniType, io: "input" | "output", components: Record<string, JsonSchema>) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  const relink = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', `"${REF_PREFIX}`));
  for (const [id, def] of Object.entries(defs)) components[id] = relink(def) as JsonSchema;
  // A named schema at the top comes back as a $ref to its own definition, now in components.
  return relink(json) as JsonSchema;
}

/** The parameters of a zod object schema (a route's path or query), each as OpenAPI describes it. */
function parameters(schema: z.ZodMiniType | undefined, place: "path" | "query" | "header") {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: place,
      required: place === "path" || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function operation(name: string, route: ApiRoute, components: Record<string, JsonSchema>) {
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    const type = answer.contentType ?? "application/json";
    responses[status] = {
      description: answer.description,
      ...(answer.schema
        ? { content: { [type]: { schema: toSchema(answer.schema, "output", components) } } }
        : answer.contentType
          ? { content: { [type]: { schema: { type: "string" } } } }
          : {}),
    };
  }
  const codes = [...new Set([...route.errors, ...commonErrors(route)])];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES.filter((known) => codes.includes(known))) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: `Error: ${statusCodes.join(", ")}`,
      content: { "application/json": { schema: { $ref: `${REF_PREFIX}Error` } } },
    };
  }
  return {
    operationId: name,
    summary: route.summary,
    ...(route.auth === "none"
      ? { security: [] }
      : route.auth === "basic"
        ? { security: [{ basic: [] }] }
        : {}),
    parameters: [
      ...parameters(route.params, "path"),
      ...parameters(route.query, "query"),
      ...parameters(route.headers, "header"),
    ],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: toSchema(route.body, "input", components) } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(version: string) {
  const components: Record<string, JsonSchema> = {};
  toSchema(errorSchema, "output", components);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, route] of Object.entries(API_ROUTES) as [string, ApiRoute][]) {
    const path = `/_reflinks${route.path.replace(/:([a-z_]+)/g, "{$1}")}`;
    paths[path] = { ...paths[path], [route.method]: operation(name, route, components) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "reflinks API",
      version,
      description:
        "The API of reflinks, referral links at the edge. Every route is under /_reflinks on the " +
        "site the worker runs on; docs/api.md in the repository explains each one.",
    },
    servers: [{ url: "/", description: "the site the worker runs on" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "the API_TOKEN secret" },
        basic: { type: "http", scheme: "basic", description: "any user name, the API_TOKEN as the password" },
      },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
