/**
 * `/_reflinks/reports`: the numbers of the `link_stats`, `daily_hits` and `link_revenue` views as
 * JSON, over a period of UTC days when `from`/`to` are given, and of `referrer_earnings` as of now
 * (docs/reports.md defines each number).
 */
import type { Context } from "hono";
import type { HonoEnv } from "../../app-env";
import { findLinkTarget } from "../../db/queries/links";
import {
  dailyReport,
  earningsReport,
  linkReport,
  type Period,
  revenueReport,
} from "../../db/queries/reports";
import { ApiError } from "../../errors";
import { API_ROUTES } from "./contract";
import { queryOf, validate } from "./input";
import { periodQuery } from "./schemas";

/** Reads `from` and `to` from a query, 422 naming the parameter when one is not a day. */
export function periodOf(query: Record<string, string>): Period {
  const { from, to } = validate(periodQuery, { from: query.from, to: query.to });
  return { from, to };
}

/** The handlers of the report routes, by their name in {@link API_ROUTES}. */
export const reportHandlers = {
  async linkReport(c: Context<HonoEnv>) {
    const period = periodOf(queryOf(c));
    return c.json({ rows: await linkReport(c.var.db, period) });
  },

  async dailyReport(c: Context<HonoEnv>) {
    const query = queryOf(c);
    const { link } = validate(API_ROUTES.dailyReport.query, query);
    const period = periodOf(query);
    let linkId: number | undefined;
    if (link !== undefined) {
      const target = await findLinkTarget(c.var.db, link);
      if (!target) throw new ApiError("not_found", `No link "${link}".`);
      linkId = target.id;
    }
    return c.json({ rows: await dailyReport(c.var.db, { ...period, linkId }) });
  },

  async revenueReport(c: Context<HonoEnv>) {
    const period = periodOf(queryOf(c));
    return c.json({ rows: await revenueReport(c.var.db, period) });
  },

  async earningsReport(c: Context<HonoEnv>) {
    const query = queryOf(c);
    for (const name of ["from", "to"]) {
      if (query[name] !== undefined) {
        throw new ApiError(
          "validation_failed",
          `${name} is not a parameter of this report: earnings are as of now, not over a period`,
        );
      }
    }
    validate(API_ROUTES.earningsReport.query, query);
    return c.json({ rows: await earningsReport(c.var.db) });
  },
};
