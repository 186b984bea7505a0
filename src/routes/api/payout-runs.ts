/**
 * `/_reflinks/payout-runs` (docs/payouts.md#payout-runs): every referrer due at least the minimum
 * paid in one step, and the files that carry the run to PayPal, Wise or a bank.
 */
import type { Context } from "hono";
import * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import { payoutMinimumOf } from "../../config";
import type { Database } from "../../db/client";
import { payoutMethodsOf } from "../../db/queries/payout-methods";
import { createRun, findRun, listRuns, type RunWithPayouts } from "../../db/queries/payout-runs";
import { ApiError } from "../../errors";
import { missingMethods, type PayoutFile, type PayoutFileFormat, payoutFile } from "../../payouts/files";
import type { ApiHandlers } from "./handler";
import { decodeCursor, encodeCursor } from "./input";

type C = Context<HonoEnv>;

/** A run as the API answers it: with, per format, the referrers it cannot pay for want of a method. */
export async function runJson(db: Database, run: RunWithPayouts) {
  const methods = await payoutMethodsOf(
    db,
    run.payouts.map((payout) => payout.referrer_user_id),
  );
  const { id, currency, amount, payouts, created_at } = run;
  return { id, currency, amount, payouts, missing_method: missingMethods(run, methods), created_at };
}

/** The run's file in `format`, or the ApiError that says why there is none. */
export async function runFile(c: C, runId: number, format: PayoutFileFormat): Promise<PayoutFile> {
  const { db, config } = c.var;
  const run = await findRun(db, runId);
  if (!run) throw new ApiError("not_found", `No payout run ${runId}.`);
  const methods = await payoutMethodsOf(
    db,
    run.payouts.map((payout) => payout.referrer_user_id),
  );
  const { name, iban, bic } = config.sepaDebtor;
  const file = payoutFile(format, run, methods, {
    debtor: { name: name ?? undefined, iban: iban ?? undefined, bic: bic ?? undefined },
    now: new Date().toISOString(),
  });
  if ("code" in file) throw new ApiError(file.code, file.message);
  return file;
}

/** A file as a download: never cached, never shown inline. */
export function attachment(c: C, file: PayoutFile): Response {
  c.header("Content-Type", file.contentType);
  c.header("Content-Disposition", `attachment; filename="${file.filename}"`);
  c.header("X-Content-Type-Options", "nosniff");
  return c.body(file.body);
}

export const payoutRunHandlers = {
  async createPayoutRun(c, { headers, body }) {
    const key = headers["idempotency-key"];
    const { db, config } = c.var;
    const outcome = await createRun(db, c.var.events, {
      key,
      currency: body.currency,
      now: new Date().toISOString(),
      minimum: payoutMinimumOf(config, body.currency),
    });
    if (outcome.kind === "nothing_due") {
      throw new ApiError(
        "nothing_due",
        `No referrer is due at least ${payoutMinimumOf(config, body.currency)} (minor units) in ${body.currency}.`,
      );
    }
    if (outcome.kind === "key_reused") {
      throw new ApiError("conflict", "This Idempotency-Key was used for a payout run in another currency.");
    }
    return c.json({ run: await runJson(db, outcome.run) }, outcome.kind === "created" ? 201 : 200);
  },

  async listPayoutRuns(c, { query }) {
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listRuns(c.var.db, { beforeId, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    const runs = await Promise.all(shown.map((run) => runJson(c.var.db, run)));
    return c.json({ runs, next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null });
  },

  async getPayoutRun(c, { params }) {
    const id = Number(params.id);
    const run = await findRun(c.var.db, id);
    if (!run) throw new ApiError("not_found", `No payout run ${id}.`);
    return c.json({ run: await runJson(c.var.db, run) });
  },

  async getPayoutRunFile(c, { params, query: { format } }) {
    return attachment(c, await runFile(c, Number(params.id), format));
  },
} satisfies Partial<ApiHandlers>;
