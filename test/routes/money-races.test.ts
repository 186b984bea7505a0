/**
 * Races too narrow to hit reliably through the API, replayed in the order that breaks them: the
 * payout and reversal writes must be right whatever runs between a call's read and its batch.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { reverseConversion } from "../../src/db/queries/conversions";
import { payReferrer } from "../../src/db/queries/payouts";
import { WrittenEvents } from "../../src/webhooks/outbox";
import { uniqueUser } from "../support/api";
import { delayedBatch } from "../support/faults";
import {
  converted,
  countRows,
  dueRow,
  externalId,
  getConversion,
  listPayouts,
  pay,
  referredUser,
  reverse,
} from "../support/money";

/** {@link delayedBatch} of the test database. */
const delayed = (before: () => Promise<unknown>) => delayedBatch(env.DB, before);

describe("POST /payouts with one key, two calls in the same millisecond", () => {
  it("a conversion that becomes due between the winner's batch and the loser's is not put into the winner's payout", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    await converted(user, 1000); // 100 due
    const key = crypto.randomUUID();
    const now = new Date().toISOString(); // Date.now() stands still between I/O in a Worker: both calls see it.
    const request = { key, referrerUserId: referrer, currency: "EUR", now };

    let winner: Promise<unknown> = Promise.resolve();
    let late: { external_id: string } | undefined;
    // The loser read "no payout with this key" before the winner wrote; its batch runs after the
    // winner's, and after a new conversion came in.
    const loser = payReferrer(
      database(
        delayed(async () => {
          await winner;
          late = await converted(user, 5000); // 500, due at once
        }),
      ),
      new WrittenEvents(),
      request,
    );
    winner = payReferrer(database(env.DB), new WrittenEvents(), request);
    const [lost, won] = await Promise.all([loser, winner]);

    expect(won).toMatchObject({ kind: "created", payout: { amount: 100, conversions: 1 } });
    expect(lost).toMatchObject({ kind: "existing", payout: { amount: 100, conversions: 1 } });
    // The late conversion was not paid: it is still due, in no payout.
    expect((await getConversion(late?.external_id ?? "")).body).toMatchObject({
      status: "approved",
      payout_id: null,
    });
    const [payout] = (await listPayouts({ referrer_user_id: referrer })).body.payouts;
    expect(payout).toMatchObject({ amount: 100, conversions: 1 });
  });
});

describe("a reversal decides from the conversion as it is when it writes, not as it was read", () => {
  it("paid out between the reversal's read and its write: the reversal is a clawback, the conversion stays paid", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const conversion = await converted(user, 1000); // 100
    let payoutId: number | undefined;
    const outcome = await reverseConversion(
      database(
        delayed(async () => {
          const payout = await pay(referrer, "EUR");
          payoutId = payout.body.payout.id;
        }),
      ),
      new WrittenEvents(),
      conversion.id,
      { reversalId: externalId("refund"), amount: 400, now: new Date().toISOString() },
    );
    expect(outcome).toMatchObject({
      kind: "created",
      conversion: { status: "paid", payoutId, commission: 60, reversedAmount: 400 },
      reversal: { commissionDelta: -40, clawback: true, payoutId: null },
    });
    await converted(user, 1000);
    expect(await dueRow(referrer, "EUR")).toMatchObject({ amount: 60, conversions: 1, clawbacks: 1 });
  });

  it("another reversal between its read and its write: what no longer fits is refused (422), nothing stored", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const reversalId = externalId("refund");
    const outcome = await reverseConversion(
      database(
        delayed(async () => {
          expect(
            (await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 600 }))
              .status,
          ).toBe(201);
        }),
      ),
      new WrittenEvents(),
      conversion.id,
      { reversalId, amount: 500, now: new Date().toISOString() },
    );
    expect(outcome).toEqual({ kind: "too_much", left: 400 });
    expect(await countRows("reversals", "reversal_id = ?", reversalId)).toBe(0);
    expect((await getConversion(conversion.external_id)).body).toMatchObject({
      reversed_amount: 600,
      commission: 40,
    });
  });

  it("the rest, asked for while another reversal lands: the rest as it is then, never past the amount", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const outcome = await reverseConversion(
      database(
        delayed(() => reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 300 })),
      ),
      new WrittenEvents(),
      conversion.id,
      { reversalId: externalId("refund"), amount: undefined, now: new Date().toISOString() },
    );
    expect(outcome).toMatchObject({
      kind: "created",
      reversal: { amount: 700, commissionDelta: -70 },
      conversion: { reversedAmount: 1000, commission: 0, status: "reversed" },
    });
  });
});
