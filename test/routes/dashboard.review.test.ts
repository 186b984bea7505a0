/**
 * The dashboard's review queue (docs/fraud.md): held referrals with their flags and evidence, and
 * the Release, Reject and Ban forms, sent as a browser sends them (token and all, read from the
 * page). Each decision is the API's (the same query functions): these tests check what it changes
 * in D1, the flash it answers, and that a forged or cross-site post changes nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { apiJson, daysAgo, seedHit, uniqueUser } from "../support/api";
import {
  DASHBOARD,
  dashboardHtml,
  formFields,
  openDashboard,
  postForm,
  select,
  submitForm,
} from "../support/dashboard";
import { createLink, hitsOf } from "../support/db";
import { converted } from "../support/money";
import { send, uniqueIdentifier } from "../support/worker";

// Each test renders and posts several pages: room for a machine busy with other tests.
vi.setConfig({ testTimeout: 30_000 });

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Json = any;

let network = 0;
/** A fresh 16-hex network hash, so that each test's "same network" count is its own. */
const newNetwork = () => (0xfeed0000 + ++network).toString(16).padStart(16, "0");

/**
 * A referral held by `paid_ads` (the default FRAUD_RULES): a referrer's link, a user who clicked
 * it from an ad yesterday, confirmed; and a conversion of it, held with it.
 */
async function heldReferral(
  options: { referrer?: string; ipHash?: string; link?: { id: number; identifier: string } } = {},
) {
  const referrer = options.referrer ?? uniqueUser("referrer");
  const link = options.link ?? (await createLink(uniqueIdentifier("held"), { userId: referrer }));
  const user = uniqueUser("referred");
  await seedHit(link.id, {
    hitUserId: user,
    anonymousId: crypto.randomUUID(),
    createdAt: daysAgo(1),
    country: "NL",
    asn: 64_512,
    paidClick: "gclid",
    ipHash: options.ipHash ?? newNetwork(),
  });
  const confirmed = await apiJson<Json>("/confirm", { method: "POST", json: { user_id: user } });
  expect(confirmed.status).toBe(201);
  expect(confirmed.body.referral).toMatchObject({ status: "held", flags: ["paid_ads"] });
  const conversion = await converted(user, 10_000);
  expect(conversion.status).toBe("held");
  return { id: confirmed.body.referral.id as number, user, referrer, link, conversion };
}

const page = () => dashboardHtml();

const releaseForm = (id: number) => `form[action="${DASHBOARD}/referrals/${id}/release"]`;
const rejectForm = (id: number) => `form[action="${DASHBOARD}/referrals/${id}/reject"]`;
const banForm = (referrer: string) => `li[data-ban="${referrer}"] form`;

/** Sends the page's form `selector` with some fields changed; the 303's target. */
async function submit(selector: string, changes: Record<string, string> = {}, rendered?: string) {
  return submitForm(rendered ?? (await page()), selector, changes);
}

/** The flash of the page a redirect leads to. */
async function flashOf(location: URL) {
  const response = await openDashboard(location.search.slice(1));
  const html = await response.text();
  const [flash] = await select(html, "[data-flash]");
  return { kind: flash?.attributes["data-flash"], text: flash?.text.trim() };
}

const referralRow = (id: number) =>
  env.DB.prepare("SELECT status, reason, reviewed_at FROM confirmed_referrals WHERE id = ?")
    .bind(id)
    .first<{ status: string; reason: string | null; reviewed_at: string | null }>();

const conversionRow = (id: number) =>
  env.DB.prepare("SELECT status, commission FROM conversions WHERE id = ?")
    .bind(id)
    .first<{ status: string; commission: number }>();

describe("the review queue", () => {
  it("lists held referrals newest first, with flags in plain words and the evidence; not ok ones", async () => {
    const ipHash = newNetwork();
    const older = await heldReferral({ ipHash });
    const newer = await heldReferral({ ipHash, link: older.link, referrer: older.referrer });
    // Confirmed without rules: ok, not for review.
    const fineLink = await createLink(uniqueIdentifier("fine"), { userId: uniqueUser("referrer") });
    const fineUser = uniqueUser("referred");
    await seedHit(fineLink.id, {
      hitUserId: fineUser,
      anonymousId: crypto.randomUUID(),
      createdAt: daysAgo(1),
    });
    const fine = await apiJson<Json>("/confirm", {
      method: "POST",
      json: { user_id: fineUser },
      bindings: { FRAUD_RULES: "none" },
    });
    expect(fine.body.referral.status).toBe("ok");

    const html = await page();
    const rows = await select(html, "table[data-table=review] tbody tr");
    const ids = rows.map((row) => Number(row.attributes["data-referral"]));
    expect(ids.indexOf(newer.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    expect(ids).not.toContain(fine.body.referral.id);

    const cells = await select(html, `tr[data-referral="${newer.id}"] td`);
    const byLabel = Object.fromEntries(
      cells.map((cell) => [cell.attributes["data-label"], cell.text.trim()]),
    );
    expect(byLabel).toMatchObject({
      "referred user": newer.user,
      link: older.link.identifier,
      referrer: older.referrer,
      "held because": "came through a paid ad",
      country: "NL",
      "network (ASN)": "AS64512",
      "paid click": "gclid",
      // Both referrals to the link came from one network.
      "same network": "2",
    });
    expect(byLabel["confirmed (UTC)"]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // Each row has its two decisions, with a reason field for the rejection; one ban per referrer.
    expect(await select(html, `${rejectForm(newer.id)} input[name=reason]`)).toHaveLength(1);
    expect(await select(html, releaseForm(newer.id))).toHaveLength(1);
    expect(await select(html, `li[data-ban="${older.referrer}"]`)).toHaveLength(1);
  });
});

describe("deciding from the dashboard", () => {
  it("Release: the referral is ok, its held commission pending; a repeat says the same; Reject after it is a conflict", async () => {
    const held = await heldReferral();
    const html = await page();
    const location = await submit(releaseForm(held.id), {}, html);
    expect(location.searchParams.get("done")).toBe("referral_released");
    expect(location.searchParams.get("referral")).toBe(String(held.id));
    expect(await referralRow(held.id)).toMatchObject({ status: "ok" });
    expect(await conversionRow(held.conversion.id)).toMatchObject({ status: "pending", commission: 1_000 });
    expect(await flashOf(location)).toEqual({
      kind: "done",
      text: `Referral #${held.id} released: it counts, and its commissions are payable as if never held.`,
    });
    // The same page's form sent again (a reload, a second tab): the same answer, nothing more.
    expect((await submit(releaseForm(held.id), {}, html)).searchParams.get("done")).toBe("referral_released");
    const conflict = await submit(rejectForm(held.id), { reason: "too late" }, html);
    expect(conflict.searchParams.get("failed")).toBe("already_released");
    expect(await referralRow(held.id)).toMatchObject({ status: "ok", reason: null });
    expect((await flashOf(conflict)).text).toBe(
      `Nothing changed: referral #${held.id} is already released (it counts).`,
    );
    // Gone from the queue.
    expect(await select(await page(), `tr[data-referral="${held.id}"]`)).toHaveLength(0);
  });

  it("Reject with a reason: rejected, its commission 0; a repeat says the same; Release after it is a conflict", async () => {
    const held = await heldReferral();
    const html = await page();
    const location = await submit(rejectForm(held.id), { reason: "  brand bidding  " }, html);
    expect(location.searchParams.get("done")).toBe("referral_rejected");
    expect(await referralRow(held.id)).toMatchObject({ status: "rejected", reason: "brand bidding" });
    expect(await conversionRow(held.conversion.id)).toEqual({ status: "rejected", commission: 0 });
    expect((await flashOf(location)).text).toBe(
      `Referral #${held.id} rejected: its unpaid commissions, and any later ones, earn nothing.`,
    );
    expect((await submit(rejectForm(held.id), { reason: "" }, html)).searchParams.get("done")).toBe(
      "referral_rejected",
    );
    const conflict = await submit(releaseForm(held.id), {}, html);
    expect(conflict.searchParams.get("failed")).toBe("already_rejected");
    expect(await referralRow(held.id)).toMatchObject({ status: "rejected", reason: "brand bidding" });
    expect((await flashOf(conflict)).text).toBe(`Nothing changed: referral #${held.id} is already rejected.`);
  });

  it("a reason longer than the API takes: nothing changed, and the page says why", async () => {
    const held = await heldReferral();
    const location = await submit(rejectForm(held.id), { reason: "x".repeat(1001) });
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ failed: "invalid", field: "reason" });
    expect(await referralRow(held.id)).toMatchObject({ status: "held" });
    expect((await flashOf(location)).text).toBe(
      "Nothing changed: the reason must be at most 1000 characters.",
    );
  });

  it("Ban: the referrer's links are disabled (a click records no hit), their held referrals rejected; a repeat changes nothing", async () => {
    const held = await heldReferral();
    const other = await createLink(uniqueIdentifier("banned"), { userId: held.referrer });
    const html = await page();
    const location = await submit(banForm(held.referrer), { reason: "self-dealing" }, html);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      done: "referrer_banned",
      subject: held.referrer,
    });
    const links = await env.DB.prepare("SELECT disabled FROM referral_links WHERE user_id = ?")
      .bind(held.referrer)
      .all<{ disabled: number }>();
    expect(links.results.map((row) => row.disabled)).toEqual([1, 1]);
    expect(await referralRow(held.id)).toMatchObject({ status: "rejected", reason: "referrer banned" });
    expect(await conversionRow(held.conversion.id)).toEqual({ status: "rejected", commission: 0 });
    const ban = await env.DB.prepare("SELECT reason FROM banned_users WHERE user_id = ?")
      .bind(held.referrer)
      .first<{ reason: string }>();
    expect(ban?.reason).toBe("self-dealing");
    // This isolate forgot the links: a click now records nothing.
    const click = await send(`/ref/${other.identifier}`);
    await click.body?.cancel();
    expect(await hitsOf(other.id)).toHaveLength(0);
    expect((await flashOf(location)).text).toBe(
      `Referrer ${held.referrer} banned: their links are disabled, their unpaid commissions and held referrals rejected.`,
    );

    const again = await submit(banForm(held.referrer), { reason: "another reason" }, html);
    expect(again.searchParams.get("done")).toBe("referrer_banned_before");
    const still = await env.DB.prepare("SELECT reason FROM banned_users WHERE user_id = ?")
      .bind(held.referrer)
      .first<{ reason: string }>();
    expect(still?.reason).toBe("self-dealing");
  });
});

describe("refused posts change nothing", () => {
  it("another referral's token, another action's token, a made-up one, none, or a cross-site post: 403", async () => {
    const target = await heldReferral();
    const other = await heldReferral();
    const html = await page();
    const own = await formFields(html, releaseForm(target.id));
    const othersRelease = await formFields(html, releaseForm(other.id));
    const sameRejection = await formFields(html, rejectForm(target.id));
    const release = `${DASHBOARD}/referrals/${target.id}/release`;
    const reject = `${DASHBOARD}/referrals/${target.id}/reject`;
    const attempts: [string, string, Record<string, string>, Record<string, string>?][] = [
      ["another referral's token", release, othersRelease],
      ["the same referral's Reject token, to Release", release, sameRejection],
      ["the Release token, to Reject", reject, own],
      ["a made-up token", release, { ...own, form_token: "1.abc.def" }],
      ["no token", release, { back: own.back ?? "" }],
      [
        "a cross-site post with the right token",
        release,
        own,
        { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
      ],
      [
        "a post from the site (same-site, not same-origin)",
        reject,
        sameRejection,
        { Origin: "https://shop.example", "Sec-Fetch-Site": "same-site" },
      ],
    ];
    for (const [label, action, fields, headers] of attempts) {
      const response = await postForm(action, fields, headers);
      await response.body?.cancel();
      expect(response.status, label).toBe(403);
    }
    const banFields = await formFields(html, banForm(target.referrer));
    const crossBan = await postForm(`${DASHBOARD}/bans`, banFields, {
      Origin: "https://evil.example",
      "Sec-Fetch-Site": "cross-site",
    });
    await crossBan.body?.cancel();
    expect(crossBan.status).toBe(403);
    // A release token does not ban.
    const wrongBan = await postForm(`${DASHBOARD}/bans`, { ...own, user_id: target.referrer });
    await wrongBan.body?.cancel();
    expect(wrongBan.status).toBe(403);

    expect(await referralRow(target.id)).toMatchObject({ status: "held", reviewed_at: null });
    expect(await conversionRow(target.conversion.id)).toMatchObject({ status: "held" });
    const banned = await env.DB.prepare("SELECT COUNT(*) AS n FROM banned_users WHERE user_id = ?")
      .bind(target.referrer)
      .first<{ n: number }>();
    expect(banned?.n).toBe(0);
    // The page's own form still works.
    expect((await submit(releaseForm(target.id), {}, html)).searchParams.get("done")).toBe(
      "referral_released",
    );
  });
});
