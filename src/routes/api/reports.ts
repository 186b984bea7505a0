/**
 * `/_reflinks/reports`: the numbers of the `link_stats` and `daily_hits` views as JSON, over a
 * period of UTC days when `from`/`to` are given (docs/reports.md defines each number).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { HonoEnv } from "../../app-env";
import { findLinkTarget, IDENTIFIER } from "../../db/queries/links";
import { isDay } from "../../db/queries/report-sql.js";
import { dailyReport, linkReport, type Period } from "../../db/queries/reports";
import { ApiError } from "../../errors";
import { queryOf, validate } from "./input";

const day = z.string().refine(isDay, "must be a date written YYYY-MM-DD").optional();

/** `from` and `to`: days `YYYY-MM-DD`, both included, either optional; `to` not before `from`. */
export const periodSchema = z
  .object({ from: day, to: day })
  .refine((period) => !period.from || !period.to || period.from <= period.to, {
    message: "must not be before from",
    path: ["to"],
  });

const dailyQuery = z.object({
  link: z.string().regex(IDENTIFIER, "must be 1-50 characters of A-Z, a-z, 0-9, _ and -").optional(),
});

/** Reads `from` and `to` from a query, 422 naming the parameter when one is not a day. */
export function periodOf(query: Record<string, string>): Period {
  const { from, to } = validate(periodSchema, { from: query.from, to: query.to });
  return { from, to };
}

export const reports = new Hono<HonoEnv>();

reports.get("/links", async (c) => {
  const period = periodOf(queryOf(c));
  return c.json({ rows: await linkReport(c.var.db, period) });
});

reports.get("/daily", async (c) => {
  const query = queryOf(c);
  const { link } = validate(dailyQuery, query);
  const period = periodOf(query);
  let linkId: number | undefined;
  if (link !== undefined) {
    const target = await findLinkTarget(c.var.db, link);
    if (!target) throw new ApiError("not_found", `No link "${link}".`);
    linkId = target.id;
  }
  return c.json({ rows: await dailyReport(c.var.db, { ...period, linkId }) });
});

for (const path of ["/links", "/daily"]) {
  reports.all(path, (c) => {
    c.header("Allow", "GET");
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use GET.`);
  });
}
