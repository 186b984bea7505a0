/**
 * `/_reflinks/reports`: the numbers of the `link_stats`, `daily_hits` and `link_revenue` views as
 * JSON, over a period of UTC days when `from`/`to` are given, and of `referrer_earnings` as of now
 * (docs/reports.md defines each number).
 */
import { findLinkTarget } from "../../db/queries/links";
import {
  dailyReport,
  earningsReport,
  linkReport,
  type Period,
  revenueReport,
} from "../../db/queries/reports";
import { ApiError } from "../../errors";
import type { ApiHandlers } from "./handler";
import { validate } from "./input";
import { periodQuery } from "./schemas";

/** Reads `from` and `to` from a query, 422 naming the parameter when one is not a day. */
export function periodOf(query: Record<string, string>): Period {
  const { from, to } = validate(periodQuery, { from: query.from, to: query.to });
  return { from, to };
}

/** The handlers of the report routes, by their name in the route table (./contract.ts). */
export const reportHandlers = {
  async linkReport(c, { query: period }) {
    return c.json({ rows: await linkReport(c.var.db, period) });
  },

  async dailyReport(c, { query: { link, ...period } }) {
    let linkId: number | undefined;
    if (link !== undefined) {
      const target = await findLinkTarget(c.var.db, link);
      if (!target) throw new ApiError("not_found", `No link "${link}".`);
      linkId = target.id;
    }
    return c.json({ rows: await dailyReport(c.var.db, { ...period, linkId }) });
  },

  async revenueReport(c, { query: period }) {
    return c.json({ rows: await revenueReport(c.var.db, period) });
  },

  async earningsReport(c) {
    return c.json({ rows: await earningsReport(c.var.db) });
  },
} satisfies Partial<ApiHandlers>;
