/**
 * Racing payout runs and single payouts (docs/payouts.md#payout-runs): however they interleave,
 * each commission is paid once, and each payout is exactly the commissions and clawbacks in it.
 * Races through the API (calls in flight at once) and, for the narrow ones, replayed in the order
 * that would break a read-then-write (./money-races.test.ts's technique).
 *
 * A run pays everyone due in its currency: each test pays in a currency of its own.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { createRun } from "../../src/db/queries/payout-runs";
import { payReferrer } from "../../src/db/queries/payouts";
import { WrittenEvents } from "../../src/webhooks/outbox";
import { apiJson, uniqueUser } from "../support/api";
import { delayedBatch } from "../support/faults";
import { converted, getConversion, pay, referredUser } from "../support/money";

let currencies = 0;
function uniqueCurrency(): string {
  currencies += 1;
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return `R${letters[Math.floor(currencies / 26) % 26]}${letters[currencies % 26]}`;
}

/** `count` referrers, each with two approved conversions (10 % commission) in `currency`. */
async function referrers(currency: string, count: number) {
  const made = [];
  for (let n = 0; n < count; n++) {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const conversions = [
      await converted(user, 1000 + n * 10, { currency }),
      await converted(user, 2000, { currency }),
    ];
    made.push({ referrer, user, conversions });
  }
  return made;
}

/**
 * The money invariants of a currency: every due conversion of these referrers is in exactly one
 * payout, each payout's amount is the sum of its conversions' commissions and clawbacks, and the
 * total paid is the total earned.
 */
async function expectPaidOnce(currency: string, expectedTotal: number) {
  const { results: unpaid } = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM conversions WHERE currency = ? AND commission > 0 AND payout_id IS NULL",
  )
    .bind(currency)
    .all<{ n: number }>();
  expect(unpaid[0]?.n).toBe(0);
  const { results } = await env.DB.prepare(
    `SELECT p.id, p.amount,
       (SELECT COALESCE(SUM(c.commission), 0) FROM conversions c WHERE c.payout_id = p.id)
       + (SELECT COALESCE(SUM(r.commission_delta), 0) FROM reversals r WHERE r.payout_id = p.id) AS lines
     FROM payouts p WHERE p.currency = ?`,
  )
    .bind(currency)
    .all<{ id: number; amount: number; lines: number }>();
  for (const payout of results) expect(payout.amount, `payout ${payout.id}`).toBe(payout.lines);
  expect(results.reduce((sum, payout) => sum + payout.amount, 0)).toBe(expectedTotal);
}

function runApi(currency: string, key = crypto.randomUUID()) {
  return apiJson("/payout-runs", { method: "POST", json: { currency }, headers: { "Idempotency-Key": key } });
}

describe("payout runs racing through the API", () => {
  it("two runs at once with different keys: one pays everything, the other finds nothing (409)", async () => {
    const currency = uniqueCurrency();
    await referrers(currency, 3);
    const answers = await Promise.all([runApi(currency), runApi(currency), runApi(currency)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409]);
    await expectPaidOnce(currency, 3 * 300 + 1 + 2);
  });

  it("a run and single payouts at once: each commission in exactly one payout", async () => {
    const currency = uniqueCurrency();
    const made = await referrers(currency, 3);
    const answers = await Promise.all([
      runApi(currency),
      ...made.map(({ referrer }) => pay(referrer, currency)),
      runApi(currency),
    ]);
    expect(answers.every((answer) => [200, 201, 409].includes(answer.status))).toBe(true);
    await expectPaidOnce(currency, 3 * 300 + 1 + 2);
  });

  it("the same key many times at once: one run, every answer the same run", async () => {
    const currency = uniqueCurrency();
    await referrers(currency, 2);
    const key = crypto.randomUUID();
    const answers = await Promise.all([1, 2, 3, 4].map(() => runApi(currency, key)));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    const runs = new Set(answers.map((answer) => JSON.stringify(answer.body.run)));
    expect(runs.size).toBe(1);
    await expectPaidOnce(currency, 2 * 300 + 1);
  });
});

describe("races replayed in the order that breaks them", () => {
  it("a single payout between the run's read and its batch: that referrer is not paid twice", async () => {
    const currency = uniqueCurrency();
    const [first, second] = await referrers(currency, 2);
    const outcome = await createRun(
      database(
        delayedBatch(env.DB, async () => {
          expect((await pay(first?.referrer ?? "", currency)).status).toBe(201);
        }),
      ),
      new WrittenEvents(),
      { key: crypto.randomUUID(), currency, now: new Date().toISOString(), minimum: 1 },
    );
    expect(outcome).toMatchObject({
      kind: "created",
      run: { payouts: [{ referrer_user_id: second?.referrer }] },
    });
    await expectPaidOnce(currency, 300 + 301);
  });

  it("a run between a single payout's read and its batch: the payout finds nothing left", async () => {
    const currency = uniqueCurrency();
    const [only] = await referrers(currency, 1);
    const outcome = await payReferrer(
      database(
        delayedBatch(env.DB, async () => {
          expect((await runApi(currency)).status).toBe(201);
        }),
      ),
      new WrittenEvents(),
      {
        key: crypto.randomUUID(),
        referrerUserId: only?.referrer ?? "",
        currency,
        now: new Date().toISOString(),
      },
    );
    expect(outcome).toEqual({ kind: "nothing_due" });
    await expectPaidOnce(currency, 300);
  });

  it("one key, two calls in the same millisecond: what becomes due between their batches is not added to the winner's run", async () => {
    const currency = uniqueCurrency();
    const [only] = await referrers(currency, 1);
    const request = { key: crypto.randomUUID(), currency, now: new Date().toISOString(), minimum: 1 };
    let winner: Promise<unknown> = Promise.resolve();
    let late: { external_id: string } | undefined;
    const loser = createRun(
      database(
        delayedBatch(env.DB, async () => {
          await winner;
          late = await converted(only?.user ?? "", 5000, { currency }); // 500, due at once
        }),
      ),
      new WrittenEvents(),
      request,
    );
    winner = createRun(database(env.DB), new WrittenEvents(), request);
    const [lost, won] = await Promise.all([loser, winner]);
    expect(won).toMatchObject({
      kind: "created",
      run: { amount: 300, payouts: [{ amount: 300, conversions: 2 }] },
    });
    expect(lost).toMatchObject({
      kind: "existing",
      run: { amount: 300, payouts: [{ amount: 300, conversions: 2 }] },
    });
    expect((await getConversion(late?.external_id ?? "")).body).toMatchObject({
      status: "approved",
      payout_id: null,
    });
    // It is due to the next run, as it should be.
    expect((await runApi(currency)).body.run).toMatchObject({ amount: 500 });
    await expectPaidOnce(currency, 800);
  });
});
