/**
 * Payout runs and files (docs/payouts.md): payout methods, PAYOUT_MINIMUM, one payout per referrer
 * due in a currency in one atomic batch, once per Idempotency-Key, and the files that carry a run
 * to PayPal, Wise or a bank.
 *
 * A run pays everyone due in its currency, so each test pays in a currency of its own (Qxx codes,
 * unknown to ISO 4217 but for QAR, all with two decimals) unless it needs EUR (SEPA).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, apiError, apiJson, uniqueUser } from "../support/api";
import { converted, dueRow, endHold, getConversion, referredUser, reverse } from "../support/money";
import { createWebhook, receiver } from "../support/webhooks";

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Json = any;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let currencies = 0;
/** A currency no other test of this file pays in. */
function uniqueCurrency(): string {
  currencies += 1;
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return `Q${letters[Math.floor(currencies / 26) % 26]}${letters[currencies % 26]}`;
}

/** A referrer with approved commissions (10 % of each amount) in `currency`. */
async function referrerDue(currency: string, amounts: number[]) {
  const referrer = uniqueUser("referrer");
  const { user } = await referredUser({ referrer });
  const conversions = [];
  for (const amount of amounts) conversions.push(await converted(user, amount, { currency }));
  return { referrer, user, conversions };
}

function setMethod(userId: string, json: Record<string, unknown>) {
  return apiJson(`/users/${encodeURIComponent(userId)}/payout-method`, { method: "PUT", json });
}

function run(
  currency: string,
  key: string | null = crypto.randomUUID(),
  bindings: Record<string, string> = {},
) {
  return apiJson<Json>("/payout-runs", {
    method: "POST",
    json: { currency },
    headers: key === null ? {} : { "Idempotency-Key": key },
    bindings,
  });
}

function file(runId: number, format: string, bindings: Record<string, string> = {}) {
  return apiJson(`/payout-runs/${runId}/file?format=${format}`, { bindings });
}

async function fileText(runId: number, format: string, bindings: Record<string, string> = {}) {
  const response = await api(`/payout-runs/${runId}/file?format=${format}`, { bindings });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("PUT /users/:user_id/payout-method", () => {
  it("sets each type, answers it, replaces it whole; the IBAN stored as banks write it", async () => {
    const user = uniqueUser("payee");
    const paypal = await setMethod(user, { type: "paypal", email: "ann@example.com" });
    expect(paypal.status).toBe(200);
    expect(paypal.body).toEqual({
      user_id: user,
      type: "paypal",
      email: "ann@example.com",
      iban: null,
      account_name: null,
      updated_at: expect.stringMatching(ISO),
    });
    const wise = await setMethod(user, { type: "wise", email: "ann@example.com", account_name: "Ann Lee" });
    expect(wise.body).toMatchObject({ type: "wise", email: "ann@example.com", account_name: "Ann Lee" });
    const iban = await setMethod(user, {
      type: "iban",
      iban: "gb82 west 1234 5698 7654 32",
      account_name: "  Ann Lee ",
    });
    expect(iban.body).toMatchObject({
      type: "iban",
      email: null,
      iban: "GB82WEST12345698765432",
      account_name: "Ann Lee",
    });
  });

  it.each([
    [{ type: "iban", iban: "GB82WEST12345698765433", account_name: "Ann" }, "iban", /check digits/],
    [{ type: "iban", iban: "DE89370400440532013000" }, "account_name", /required for type iban/],
    [{ type: "iban", iban: "DE89370400440532013000", account_name: "李小龙" }, "account_name", /SEPA/],
    [{ type: "paypal" }, "email", /required for type paypal/],
    [{ type: "paypal", email: "not-an-address" }, "email", /e-mail address/],
    [{ type: "paypal", email: "=cmd@example.com" }, "email", /formula/],
    [{ type: "paypal", email: "-2+3@example.com" }, "email", /formula/],
    [{ type: "paypal", email: "@SUM@example.com" }, "email", /e-mail address|formula/],
    [{ type: "paypal", email: "ann@example.com", account_name: "+HYPERLINK(1)" }, "account_name", /formula/],
    [{ type: "wise", email: "ann@example.com", account_name: "=1+1" }, "account_name", /formula/],
    [{ type: "wise", email: "ann@example.com" }, "account_name", /required for type wise/],
    [{ type: "paypal", email: "ann@example.com", iban: "DE89370400440532013000" }, "iban", /not used/],
    [{ type: "cheque" }, "type", /paypal, wise or iban/],
    [{ type: "paypal", email: `${"a".repeat(250)}@example.com` }, "email", /at most 254/],
    [{ type: "wise", email: "ann@example.com", account_name: "\t=1+1" }, "account_name", /formula/],
    [{ type: "wise", email: "ann@example.com", account_name: "Ann\rLee" }, "account_name", /control/],
    [{ type: "paypal", email: "\t=1@example.com" }, "email", /e-mail address/],
    [{ type: "paypal", email: "ann@example.com", note: "x" }, "note", /not a known field/],
  ])("%j: 422 naming %s", async (body, field, message) => {
    const answer = await setMethod(uniqueUser("payee"), body);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", new RegExp(`^${field} `)));
    expect(answer.body.error.message).toMatch(message);
  });

  it("is in the user's export, and erasure deletes it", async () => {
    const user = uniqueUser("payee");
    await setMethod(user, { type: "paypal", email: "ann@example.com" });
    const exported = await apiJson(`/users/${user}/export`);
    expect(exported.body.payout_method).toMatchObject({ type: "paypal", email: "ann@example.com" });
    expect((await apiJson(`/users/${user}`, { method: "DELETE" })).status).toBe(200);
    expect((await apiJson(`/users/${user}/export`)).body.payout_method).toBeNull();
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM payout_methods WHERE user_id = ?")
      .bind(user)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});

describe("PAYOUT_MINIMUM", () => {
  it("/payouts/due lists only referrers at or above their currency's minimum", async () => {
    const currency = uniqueCurrency();
    const small = await referrerDue(currency, [4990]); // 499
    const exact = await referrerDue(currency, [5000]); // 500
    const bindings = { PAYOUT_MINIMUM: `${currency}:500,EUR:1` };
    const due = await apiJson(`/payouts/due?currency=${currency}`, { bindings });
    const referrers = due.body.rows.map((row: Json) => row.referrer_user_id);
    expect(referrers).toContain(exact.referrer);
    expect(referrers).not.toContain(small.referrer);
    // Without the setting both are due.
    expect(await dueRow(small.referrer, currency)).toMatchObject({ amount: 499 });
    // The earnings report shows what is due to every referrer, below the minimum too.
    const earnings = await apiJson("/reports/earnings", { bindings });
    expect(earnings.body.rows.find((row: Json) => row.referrer_user_id === small.referrer)).toMatchObject({
      currency,
      due: 499,
    });
  });

  it("POST /payouts: 409 below_minimum when something is due but less; 409 nothing_due when nothing is", async () => {
    const currency = uniqueCurrency();
    const { referrer } = await referrerDue(currency, [4990]);
    const bindings = { PAYOUT_MINIMUM: `${currency}:500` };
    const payout = (key: string, who: string) =>
      apiJson("/payouts", {
        method: "POST",
        json: { referrer_user_id: who, currency },
        headers: { "Idempotency-Key": key },
        bindings,
      });
    const below = await payout(crypto.randomUUID(), referrer);
    expect(below.status).toBe(409);
    expect(below.body).toEqual(apiError("below_minimum", /499.*500/));
    const nothing = await payout(crypto.randomUUID(), uniqueUser("nobody"));
    expect(nothing.body).toEqual(apiError("nothing_due"));
    // Nothing was paid: the commission is still due.
    expect(await dueRow(referrer, currency)).toMatchObject({ amount: 499, conversions: 1 });
  });
});

describe("POST /payout-runs", () => {
  it("201: one payout per referrer due, conversions paid, missing methods named per format", async () => {
    const currency = uniqueCurrency();
    const ann = await referrerDue(currency, [1000, 2000]); // 300
    const bob = await referrerDue(currency, [5000]); // 500
    const cy = await referrerDue(currency, [700]); // 70
    await setMethod(ann.referrer, { type: "paypal", email: "ann@example.com" });
    await setMethod(bob.referrer, { type: "iban", iban: "DE89370400440532013000", account_name: "Bob" });

    const made = await run(currency);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const byReferrer = (referrer: string) =>
      made.body.run.payouts.find((p: Json) => p.referrer_user_id === referrer);
    expect(made.body.run).toMatchObject({
      id: expect.any(Number),
      currency,
      amount: 870,
      created_at: expect.stringMatching(ISO),
    });
    expect(made.body.run.payouts).toHaveLength(3);
    expect(byReferrer(ann.referrer)).toMatchObject({ amount: 300, conversions: 2, clawbacks: 0, currency });
    expect(byReferrer(bob.referrer)).toMatchObject({ amount: 500, conversions: 1 });
    expect(byReferrer(cy.referrer)).toMatchObject({ amount: 70, conversions: 1 });
    const sorted = (...users: string[]) => users.sort();
    expect(made.body.run.payouts.map((p: Json) => p.referrer_user_id)).toEqual(
      sorted(ann.referrer, bob.referrer, cy.referrer),
    );
    const stored = await env.DB.prepare("SELECT idempotency_key, run_id FROM payouts WHERE id = ?")
      .bind(byReferrer(ann.referrer).id)
      .first();
    expect(stored).toEqual({
      idempotency_key: `run:${made.body.run.id}:${ann.referrer}`,
      run_id: made.body.run.id,
    });
    expect(made.body.run.missing_method).toEqual({
      paypal: sorted(bob.referrer, cy.referrer),
      wise: sorted(ann.referrer, bob.referrer, cy.referrer),
      sepa: sorted(ann.referrer, cy.referrer),
    });
    // Every conversion is paid, into its referrer's payout; nothing is due any more.
    for (const [who, conversions] of [
      [ann.referrer, ann.conversions],
      [bob.referrer, bob.conversions],
    ] as const) {
      for (const conversion of conversions) {
        expect((await getConversion(conversion.external_id)).body).toMatchObject({
          status: "paid",
          payout_id: byReferrer(who).id,
        });
      }
    }
    expect((await apiJson(`/payouts/due?currency=${currency}`)).body.rows).toEqual([]);
    // The run's payouts are payouts like any other.
    const listed = await apiJson(`/payouts?referrer_user_id=${ann.referrer}`);
    expect(listed.body.payouts).toEqual([byReferrer(ann.referrer)]);
  });

  it("the same key again: 200 with the same run, nothing paid twice; another currency: 409 conflict", async () => {
    const currency = uniqueCurrency();
    const { user } = await referrerDue(currency, [1000]);
    const key = crypto.randomUUID();
    const first = await run(currency, key);
    expect(first.status).toBe(201);
    await converted(user, 3000, { currency }); // due after the first run
    const again = await run(currency, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await run(uniqueCurrency(), key);
    expect(other.status).toBe(409);
    expect(other.body).toEqual(apiError("conflict", /another currency/));
    // The later conversion is still due, for the next run.
    const next = await run(currency);
    expect(next.status).toBe(201);
    expect(next.body.run).toMatchObject({ amount: 300, payouts: [{ amount: 300, conversions: 1 }] });
  });

  it("nothing due: 409 nothing_due; without a key: 422; a bad currency: 422", async () => {
    const empty = uniqueCurrency();
    const nothing = await run(empty);
    expect(nothing.status).toBe(409);
    expect(nothing.body).toEqual(apiError("nothing_due"));
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM payout_runs WHERE currency = ?")
      .bind(empty)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
    const keyless = await run(uniqueCurrency(), null);
    expect(keyless.status).toBe(422);
    expect(keyless.body).toEqual(apiError("validation_failed", /Idempotency-Key/));
    const bad = await run("eur");
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual(apiError("validation_failed", /^currency /));
  });

  it("pays only referrers due at least PAYOUT_MINIMUM; a currency it does not name has none", async () => {
    const currency = uniqueCurrency();
    const small = await referrerDue(currency, [4990]); // 499
    const big = await referrerDue(currency, [5000]); // 500
    const bindings = { PAYOUT_MINIMUM: `${currency}:500` };
    const made = await run(currency, crypto.randomUUID(), bindings);
    expect(made.status).toBe(201);
    expect(made.body.run.payouts.map((p: Json) => p.referrer_user_id)).toEqual([big.referrer]);
    expect(await dueRow(small.referrer, currency)).toMatchObject({ amount: 499 });
    // Only the small one is left: below the minimum, nothing is due to a run.
    expect((await run(currency, crypto.randomUUID(), bindings)).body).toEqual(apiError("nothing_due"));
    // Another currency is not limited by it.
    const other = uniqueCurrency();
    await referrerDue(other, [10]);
    expect((await run(other, crypto.randomUUID(), bindings)).status).toBe(201);
  });

  it("nets clawbacks as POST /payouts does; a wholly reversed unpaid conversion pays nothing", async () => {
    const currency = uniqueCurrency();
    const ann = await referrerDue(currency, [1000]); // 100
    expect((await run(currency)).status).toBe(201);
    await reverse(ann.conversions[0].external_id, { reversal_id: `re-${crypto.randomUUID()}`, amount: 400 }); // -40
    await converted(ann.user, 2000, { currency }); // +200
    const bob = await referrerDue(currency, [100]); // 10
    await reverse(bob.conversions[0].external_id, { reversal_id: `re-${crypto.randomUUID()}` }); // reversed, unpaid
    const made = await run(currency);
    expect(made.status).toBe(201);
    expect(made.body.run.payouts).toEqual([
      expect.objectContaining({ referrer_user_id: ann.referrer, amount: 160, conversions: 1, clawbacks: 1 }),
    ]);
    expect(await dueRow(ann.referrer, currency)).toBeUndefined();
  });

  it("a conversion past its hold still stored pending: conversion.approved, then paid by the run", async () => {
    const currency = uniqueCurrency();
    const hook = await createWebhook(receiver("ok").url, ["conversion.approved"]);
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const answer = await apiJson("/conversions", {
      method: "POST",
      json: { user_id: user, external_id: `inv-${crypto.randomUUID()}`, amount: 1000, currency },
      bindings: { COMMISSION: "percent:10", HOLD_DAYS: "30" },
    });
    const external = answer.body.conversion.external_id;
    await endHold(external);
    const made = await run(currency);
    expect(made.status).toBe(201);
    const { results } = await env.DB.prepare(
      "SELECT payload FROM webhook_events WHERE webhook_id = ? AND type = 'conversion.approved'",
    )
      .bind(hook.id)
      .all<{ payload: string }>();
    expect(results.map((row) => JSON.parse(row.payload).data)).toEqual([
      expect.objectContaining({ external_id: external, status: "approved", payout_id: null }),
    ]);
    expect((await getConversion(external)).body).toMatchObject({
      status: "paid",
      payout_id: made.body.run.payouts[0].id,
    });
  });

  it("writes payout.created for each payout in the same batch", async () => {
    const currency = uniqueCurrency();
    const hook = await createWebhook(receiver("ok").url, ["payout.created"]);
    await referrerDue(currency, [1000]);
    await referrerDue(currency, [2000]);
    const made = await run(currency);
    const { results } = await env.DB.prepare(
      "SELECT payload FROM webhook_events WHERE webhook_id = ? AND type = 'payout.created'",
    )
      .bind(hook.id)
      .all<{ payload: string }>();
    const sent = results.map((row) => JSON.parse(row.payload).data).sort((a, b) => a.id - b.id);
    expect(sent).toEqual([...made.body.run.payouts].sort((a: Json, b: Json) => a.id - b.id));
  });
});

describe("GET /payout-runs and /payout-runs/:id", () => {
  it("newest first, paged with next_cursor; one run by id; an unknown id: 404", async () => {
    const made = [];
    for (let n = 0; n < 3; n++) {
      const currency = uniqueCurrency();
      await referrerDue(currency, [1000]);
      made.push((await run(currency)).body.run);
    }
    const first = await apiJson("/payout-runs?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.runs.slice(0, 2)).toEqual([made[2], made[1]]);
    const second = await apiJson(`/payout-runs?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.runs[0]).toEqual(made[0]);
    expect((await apiJson(`/payout-runs/${made[1].id}`)).body).toEqual({ run: made[1] });
    const missing = await apiJson("/payout-runs/999999999");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(apiError("not_found"));
    expect((await apiJson("/payout-runs/abc")).status).toBe(422);
  });
});

const SEPA = {
  SEPA_DEBTOR_NAME: "Shop GmbH",
  SEPA_DEBTOR_IBAN: "FR1420041010050500013M02606",
  SEPA_DEBTOR_BIC: "SOGEFRPP",
};

describe("GET /payout-runs/:id/file", () => {
  it("paypal, wise and csv: attachments with the referrers of that method, amounts in major units", async () => {
    const currency = uniqueCurrency();
    const ann = await referrerDue(currency, [15_000]); // 1500 = 15.00
    const bob = await referrerDue(currency, [20]); // 2 = 0.02
    const cy = await referrerDue(currency, [990]); // 99 = 0.99
    await setMethod(ann.referrer, { type: "paypal", email: "ann@example.com" });
    await setMethod(bob.referrer, { type: "wise", email: "bob@example.com", account_name: 'Bob "B", Jr' });
    const { id, payouts } = (await run(currency)).body.run;
    const payoutOf = (referrer: string) => payouts.find((p: Json) => p.referrer_user_id === referrer).id;

    const paypal = await fileText(id, "paypal");
    expect(paypal.status).toBe(200);
    expect(paypal.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(paypal.headers.get("Content-Disposition")).toBe(
      `attachment; filename="payout-run-${id}-paypal.csv"`,
    );
    expect(paypal.text).toBe(
      `ann@example.com,15.00,${currency},${payoutOf(ann.referrer)},"Referral commission, payout ${payoutOf(ann.referrer)}",PAYPAL\r\n`,
    );
    const wise = await fileText(id, "wise");
    expect(wise.text.split("\r\n")[1]).toBe(
      `"Bob ""B"", Jr",bob@example.com,payout ${payoutOf(bob.referrer)},PERSON,target,0.02,${currency},${currency}`,
    );
    const csv = await fileText(id, "csv");
    expect(csv.text.split("\r\n").filter(Boolean).sort()).toEqual(
      [
        "payout_id,referrer_user_id,amount,currency,method",
        `${payoutOf(ann.referrer)},${ann.referrer},15.00,${currency},paypal`,
        `${payoutOf(bob.referrer)},${bob.referrer},0.02,${currency},wise`,
        `${payoutOf(cy.referrer)},${cy.referrer},0.99,${currency},`,
      ].sort(),
    );
  });

  it("sepa: EUR only (422 unsupported_currency); without SEPA_DEBTOR_* 422 naming them; else pain.001 XML", async () => {
    const currency = uniqueCurrency();
    await referrerDue(currency, [1000]);
    const other = (await run(currency)).body.run;
    const notEuro = await file(other.id, "sepa", SEPA);
    expect(notEuro.status).toBe(422);
    expect(notEuro.body).toEqual(apiError("unsupported_currency", /EUR/));

    const ann = await referrerDue("EUR", [12_345]); // 1234.5 rounded half up: 1235 = 12.35
    await setMethod(ann.referrer, {
      type: "iban",
      iban: "DE89370400440532013000",
      account_name: "Zoë Müller",
    });
    const euro = (await run("EUR")).body.run;
    const unset = await file(euro.id, "sepa", { SEPA_DEBTOR_NAME: "Shop GmbH" });
    expect(unset.status).toBe(422);
    expect(unset.body).toEqual(apiError("missing_setting", /SEPA_DEBTOR_IBAN, SEPA_DEBTOR_BIC/));

    const sepa = await fileText(euro.id, "sepa", SEPA);
    expect(sepa.status).toBe(200);
    expect(sepa.headers.get("Content-Type")).toBe("application/xml; charset=utf-8");
    expect(sepa.headers.get("Content-Disposition")).toBe(
      `attachment; filename="payout-run-${euro.id}-sepa.xml"`,
    );
    const payout = euro.payouts.find((p: Json) => p.referrer_user_id === ann.referrer);
    expect(sepa.text).toContain(`<EndToEndId>reflinks-${payout.id}</EndToEndId>`);
    expect(sepa.text).toContain('<InstdAmt Ccy="EUR">12.35</InstdAmt>');
    expect(sepa.text).toContain("<Nm>Zoe Muller</Nm>");
    expect(sepa.text).toContain("<IBAN>FR1420041010050500013M02606</IBAN>");
  });

  it("an unknown format: 422 naming format; an unknown run: 404", async () => {
    const bad = await file(1, "excel");
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual(apiError("validation_failed", /^format /));
    expect((await file(999999999, "csv")).status).toBe(404);
  });
});
