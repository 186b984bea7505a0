/** `/_reflinks/links`: create, list, read, change and delete referral links, and list their hits. */
import { Hono } from "hono";
import { z } from "zod";
import type { HonoEnv } from "../../app-env";
import { type HitCursor, listHits } from "../../db/queries/hits";
import {
  deleteLink,
  findLink,
  IDENTIFIER,
  insertLink,
  linkStatsOf,
  listLinks,
  updateLink,
} from "../../db/queries/links";
import { ApiError } from "../../errors";
import { forgetLink } from "../../hits/link-cache";
import { randomIdentifier } from "../../lib/random-identifier";
import { userIdSchema } from "../../lib/user-id";
import { decodeCursor, encodeCursor, jsonBody, limitSchema, queryOf, validate } from "./input";
import { hitJson, linkJson } from "./serialize";

const identifierSchema = z
  .string("must be a string")
  .regex(IDENTIFIER, "must be 1-50 characters of A-Z, a-z, 0-9, _ and -");

// Strict: a misspelt key ({"identifer": …}) must not quietly create a link with a random name.
const createSchema = z
  .object({
    identifier: identifierSchema.optional(),
    user_id: userIdSchema.nullable().optional(),
  })
  .strict();

const patchSchema = z
  .object({
    disabled: z.boolean("must be true or false").optional(),
    user_id: userIdSchema.nullable().optional(),
  })
  .strict();

const listQuery = z.object({
  user_id: z.string().min(1, "must not be empty").optional(),
  limit: limitSchema,
  cursor: z.string().optional(),
});

const GENERATED_IDENTIFIER_ATTEMPTS = 5;

export const links = new Hono<HonoEnv>();

links.post("/", async (c) => {
  const body = await jsonBody(c, createSchema);
  const owner = body.user_id ?? null;
  let created = null;
  if (body.identifier !== undefined) {
    created = await insertLink(c.var.db, { identifier: body.identifier, userId: owner });
    if (!created) throw new ApiError("conflict", `identifier "${body.identifier}" is taken`);
  } else {
    for (let attempt = 0; !created && attempt < GENERATED_IDENTIFIER_ATTEMPTS; attempt++) {
      created = await insertLink(c.var.db, { identifier: randomIdentifier(), userId: owner });
    }
    if (!created) throw new Error("could not generate a free identifier");
  }
  // This isolate may remember the identifier as unknown.
  forgetLink(c.env.DB, created.identifier);
  return c.json(linkJson(created, new URL(c.req.url), c.var.config), 201);
});

links.get("/", async (c) => {
  const query = validate(listQuery, queryOf(c));
  const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().int());
  const page = await listLinks(c.var.db, { userId: query.user_id, afterId, limit: query.limit + 1 });
  const more = page.length > query.limit;
  const shown = more ? page.slice(0, query.limit) : page;
  const requestUrl = new URL(c.req.url);
  return c.json({
    links: shown.map((link) => linkJson(link, requestUrl, c.var.config)),
    next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null,
  });
});

links.get("/:identifier", async (c) => {
  const link = await requireLink(c.var.db, c.req.param("identifier"));
  const stats = await linkStatsOf(c.var.db, link.identifier);
  return c.json({ ...linkJson(link, new URL(c.req.url), c.var.config), stats });
});

links.patch("/:identifier", async (c) => {
  const identifier = c.req.param("identifier");
  const body = await jsonBody(c, patchSchema);
  const updated = await updateLink(c.var.db, identifier, { disabled: body.disabled, userId: body.user_id });
  if (!updated) throw notFound(identifier);
  forgetLink(c.env.DB, identifier);
  return c.json(linkJson(updated, new URL(c.req.url), c.var.config));
});

links.delete("/:identifier", async (c) => {
  const identifier = c.req.param("identifier");
  if (!(await deleteLink(c.var.db, identifier))) throw notFound(identifier);
  forgetLink(c.env.DB, identifier);
  return c.body(null, 204);
});

const hitCursorSchema = z.tuple([z.string(), z.string()]);

links.get("/:identifier/hits", async (c) => {
  const link = await requireLink(c.var.db, c.req.param("identifier"));
  const query = validate(listQuery.omit({ user_id: true }), queryOf(c));
  const cursor: HitCursor | undefined =
    query.cursor === undefined
      ? undefined
      : (([createdAt, id]) => ({ createdAt, id }))(decodeCursor(query.cursor, hitCursorSchema));
  const page = await listHits(c.var.db, link.id, { cursor, limit: query.limit + 1 });
  const more = page.length > query.limit;
  const shown = more ? page.slice(0, query.limit) : page;
  const last = shown.at(-1);
  return c.json({
    hits: shown.map((hit) => hitJson(hit, link.identifier)),
    next_cursor: more && last ? encodeCursor([last.createdAt, last.id]) : null,
  });
});

for (const [path, allow] of [
  ["/", "GET, POST"],
  ["/:identifier", "GET, PATCH, DELETE"],
  ["/:identifier/hits", "GET"],
] as const) {
  links.all(path, (c) => {
    c.header("Allow", allow);
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}.`);
  });
}

async function requireLink(db: HonoEnv["Variables"]["db"], identifier: string) {
  const link = IDENTIFIER.test(identifier) ? await findLink(db, identifier) : null;
  if (!link) throw notFound(identifier);
  return link;
}

function notFound(identifier: string): ApiError {
  return new ApiError("not_found", `No link "${identifier.slice(0, 50)}".`);
}
