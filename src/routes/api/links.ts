/**
 * `/_reflinks/links`: create, list, read, change and delete referral links, list their hits, give
 * them coupon codes, and draw their QR codes.
 */
import type { Context } from "hono";
import { renderSVG } from "uqr";
import * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import { couponCodesOf, deleteCoupon, insertCoupon } from "../../db/queries/coupons";
import { listHits } from "../../db/queries/hits";
import {
  deleteLink,
  findLink,
  IDENTIFIER,
  insertLink,
  linkStatsOf,
  listLinks,
  updateLink,
} from "../../db/queries/links";
import type { ReferralLink } from "../../db/schema";
import { ApiError } from "../../errors";
import { forgetLink } from "../../hits/link-cache";
import { randomIdentifier } from "../../lib/random-identifier";
import type { ApiHandlers } from "./handler";
import { decodeCursor, decodeHitCursor, encodeCursor, encodeHitCursor } from "./input";
import { hitJson, linkJson } from "./serialize";

const GENERATED_IDENTIFIER_ATTEMPTS = 5;

type C = Context<HonoEnv>;

/** The handlers of the link routes, by their name in the route table (./contract.ts). */
export const linkHandlers = {
  async createLink(c, { body }) {
    const owner = body.user_id ?? null;
    const options = linkOptionsOf(body);
    // What linkJson makes `url` of, for the link.created webhook event's body.
    const urlPrefix = `${new URL(c.req.url).origin}${c.var.config.refPath}`;
    let created = null;
    if (body.identifier !== undefined) {
      created = await insertLink(
        c.var.db,
        c.var.events,
        { identifier: body.identifier, userId: owner, ...options },
        urlPrefix,
      );
      if (!created) throw new ApiError("conflict", `identifier "${body.identifier}" is taken`);
    } else {
      for (let attempt = 0; !created && attempt < GENERATED_IDENTIFIER_ATTEMPTS; attempt++) {
        created = await insertLink(
          c.var.db,
          c.var.events,
          { identifier: randomIdentifier(), userId: owner, ...options },
          urlPrefix,
        );
      }
      if (!created) throw new Error("could not generate a free identifier");
    }
    // This isolate may remember the identifier as unknown.
    forgetLink(c.env.DB, created.identifier);
    return c.json(linkJson(created, new URL(c.req.url), c.var.config, []), 201);
  },

  async listLinks(c, { query }) {
    const afterId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listLinks(c.var.db, { userId: query.user_id, afterId, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    const requestUrl = new URL(c.req.url);
    const codes = await couponCodesOf(
      c.var.db,
      shown.map((link) => link.id),
    );
    return c.json({
      links: shown.map((link) => linkJson(link, requestUrl, c.var.config, codes.get(link.id) ?? [])),
      next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null,
    });
  },

  async getLink(c, { params }) {
    const link = await requireLink(c.var.db, params.identifier);
    const stats = await linkStatsOf(c.var.db, link.identifier);
    return c.json({ ...(await linkAnswer(c, link)), stats });
  },

  async updateLink(c, { params: { identifier }, body }) {
    const updated = await updateLink(c.var.db, identifier, {
      disabled: body.disabled,
      userId: body.user_id,
      commission: body.commission,
      ...linkOptionsOf(body),
    });
    if (!updated) throw notFound(identifier);
    forgetLink(c.env.DB, identifier);
    return c.json(await linkAnswer(c, updated));
  },

  async deleteLink(c, { params: { identifier } }) {
    if (!(await deleteLink(c.var.db, identifier))) throw notFound(identifier);
    forgetLink(c.env.DB, identifier);
    return c.body(null, 204);
  },

  async listHits(c, { params, query }) {
    const link = await requireLink(c.var.db, params.identifier);
    const cursor = query.cursor === undefined ? undefined : decodeHitCursor(query.cursor);
    const page = await listHits(c.var.db, link.id, { cursor, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    const last = shown.at(-1);
    return c.json({
      hits: shown.map((hit) => hitJson(hit, link.identifier)),
      next_cursor: more && last ? encodeHitCursor(last) : null,
    });
  },

  /** The URL `GET /links/:identifier` answers as `url`, so a printed code opens the same link. */
  async getLinkQr(c, { params }) {
    const link = await requireLink(c.var.db, params.identifier);
    const { url } = linkJson(link, new URL(c.req.url), c.var.config, []);
    return c.body(renderSVG(url, { border: 1 }), 200, { "Content-Type": "image/svg+xml" });
  },

  async createCoupon(c, { params, body }) {
    const link = await requireLink(c.var.db, params.identifier);
    const coupon = await insertCoupon(c.var.db, link.id, body.code);
    if (!coupon) throw new ApiError("conflict", `coupon code "${body.code.toUpperCase()}" is taken`);
    return c.json(
      { coupon: { code: coupon.code, link: link.identifier, created_at: coupon.createdAt } },
      201,
    );
  },

  async deleteCoupon(c, { params: { identifier, code } }) {
    const link = await requireLink(c.var.db, identifier);
    if (!(await deleteCoupon(c.var.db, link.id, code))) {
      throw new ApiError("not_found", `Link "${link.identifier}" has no coupon "${code.slice(0, 40)}".`);
    }
    return c.body(null, 204);
  },
} satisfies Partial<ApiHandlers>;

/** A link as the API answers it, with its coupon codes. */
async function linkAnswer(c: C, link: ReferralLink) {
  const codes = await couponCodesOf(c.var.db, [link.id]);
  return linkJson(link, new URL(c.req.url), c.var.config, codes.get(link.id) ?? []);
}

/** The link options of a `POST` or `PATCH` body, as the columns name them (absent: unchanged). */
function linkOptionsOf(body: {
  referee_reward?: string | null;
  expires_at?: string | null;
  commission_payments?: number | null;
}) {
  return {
    refereeReward: body.referee_reward,
    expiresAt: body.expires_at,
    commissionPayments: body.commission_payments,
  };
}

async function requireLink(db: HonoEnv["Variables"]["db"], identifier: string) {
  const link = IDENTIFIER.test(identifier) ? await findLink(db, identifier) : null;
  if (!link) throw notFound(identifier);
  return link;
}

function notFound(identifier: string): ApiError {
  return new ApiError("not_found", `No link "${identifier.slice(0, 50)}".`);
}
