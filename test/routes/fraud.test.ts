/**
 * Fraud review (docs/fraud.md): the hit's signals, the rules decided inside the confirmation's
 * batch (races included), held and rejected money, release, reject, ban, and the daily totals.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiJson, daysAgo, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { convert, DUE_AT_ONCE, dueRow, externalId, pay } from "../support/money";
import { send, uniqueIdentifier } from "../support/worker";

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Json = any;

const HASH = (n: number) => n.toString(16).padStart(16, "0");

/** A referrer's link and a user who clicked it signed out yesterday, with the hit's signals. */
async function clicked(
  signals: { ipHash?: string | null; ipPrivate?: boolean; paidClick?: string | null } = {},
  link?: { id: number; identifier: string },
  referrer = uniqueUser("referrer"),
) {
  const owned = link ?? (await createLink(uniqueIdentifier("fraud"), { userId: referrer }));
  const user = uniqueUser("referred");
  await seedHit(owned.id, {
    hitUserId: user,
    anonymousId: crypto.randomUUID(),
    createdAt: daysAgo(1),
    ipHash: signals.ipHash ?? null,
    ipPrivate: signals.ipPrivate ?? false,
    paidClick: signals.paidClick ?? null,
  });
  return { user, referrer, link: owned };
}

const confirm = (user: string, rules?: string) =>
  apiJson<Json>("/confirm", {
    method: "POST",
    json: { user_id: user },
    bindings: rules === undefined ? {} : { FRAUD_RULES: rules },
  });

const confirmedTotal = async (linkId: number) =>
  (
    await env.DB.prepare("SELECT COALESCE(SUM(confirmed), 0) AS n FROM link_daily_totals WHERE link_id = ?")
      .bind(linkId)
      .first<{ n: number }>()
  )?.n;

describe("signals on a hit", () => {
  it("records asn, the first paid click id of the URL or its next, and a 16-hex ip_hash", async () => {
    const link = await createLink(uniqueIdentifier("signals"), { userId: "owner" });
    await send(`/ref/${link.identifier}?next=${encodeURIComponent("/p?fbclid=1&gclid=2")}&utm_source=x`, {
      headers: { "CF-Connecting-IP": "198.51.100.7" },
    });
    await send(`/ref/${link.identifier}?msclkid=9&next=/p?gclid=2`, {
      headers: { "CF-Connecting-IP": "198.51.100.7", "Sec-GPC": "1" },
      bindings: { CONSENT: "gpc" },
    });
    const { results } = await env.DB.prepare(
      "SELECT paid_click, ip_hash, ip_private, consented FROM referral_hits WHERE link_id = ? ORDER BY consented DESC",
    )
      .bind(link.id)
      .all<Json>();
    expect(results[0]).toMatchObject({ paid_click: "gclid", ip_private: 0, consented: 1 });
    expect(results[0].ip_hash).toMatch(/^[0-9a-f]{16}$/);
    // Without consent: no hash (the click id names no person, so it is kept).
    expect(results[1]).toMatchObject({ paid_click: "msclkid", ip_hash: null, consented: 0 });
  });
});

describe("rules at confirmation", () => {
  it("paid_ads holds the referral: 201, status held, flags; FRAUD_RULES=none lets it through", async () => {
    const held = await clicked({ paidClick: "gclid" });
    const answer = await confirm(held.user);
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({
      status: "held",
      flags: ["paid_ads"],
      reason: null,
      source: "link",
    });
    const free = await clicked({ paidClick: "gclid" });
    expect((await confirm(free.user, "none")).body.referral).toMatchObject({ status: "ok", flags: [] });
  });

  it("self_ip: the owner's last login or signed-in hit on the same network; never a private address", async () => {
    const login = await clicked({ ipHash: HASH(1) });
    await env.DB.prepare(
      "INSERT INTO reflinks_users (user_id, first_seen_at, last_seen_at, last_ip_hash) VALUES (?, ?, ?, ?)",
    )
      .bind(login.referrer, daysAgo(10), daysAgo(10), HASH(1))
      .run();
    expect((await confirm(login.user)).body.referral.flags).toEqual(["self_referral_ip"]);

    const own = await clicked({ ipHash: HASH(2) });
    await seedHit(own.link.id, {
      hitUserId: own.referrer,
      authenticated: true,
      ipHash: HASH(2),
      createdAt: daysAgo(3),
    });
    expect((await confirm(own.user)).body.referral.flags).toEqual(["self_referral_ip"]);

    const old = await clicked({ ipHash: HASH(3) });
    await seedHit(old.link.id, {
      hitUserId: old.referrer,
      authenticated: true,
      ipHash: HASH(3),
      createdAt: daysAgo(31),
    });
    expect((await confirm(old.user)).body.referral.status).toBe("ok");

    const local = await clicked({ ipHash: HASH(4), ipPrivate: true });
    await seedHit(local.link.id, {
      hitUserId: local.referrer,
      authenticated: true,
      ipHash: HASH(4),
      ipPrivate: true,
    });
    expect((await confirm(local.user)).body.referral.status).toBe("ok");
  });

  it("velocity:N holds the N+1th referral to a link from one network in 24 hours, also when they race", async () => {
    const first = await clicked({ ipHash: HASH(10) });
    const others = await Promise.all(
      Array.from({ length: 5 }, () => clicked({ ipHash: HASH(10) }, first.link, first.referrer)),
    );
    const answers = await Promise.all([first, ...others].map((c) => confirm(c.user, "velocity:2")));
    const statuses = answers.map((a) => a.body.referral.status).sort();
    expect(statuses).toEqual(["held", "held", "held", "held", "ok", "ok"]);
    for (const a of answers.filter((x) => x.body.referral.status === "held")) {
      expect(a.body.referral.flags).toEqual(["velocity"]);
    }
    // Another network on the same link is not held.
    const elsewhere = await clicked({ ipHash: HASH(11) }, first.link, first.referrer);
    expect((await confirm(elsewhere.user, "velocity:2")).body.referral.status).toBe("ok");
  });
});

describe("held money, release, reject", () => {
  it("a held referral's conversions are held and never due; release makes them approved; referral.confirmed", async () => {
    const c = await clicked({ paidClick: "fbclid" });
    const referral = (await confirm(c.user)).body.referral;
    const external = externalId();
    const conversion = await convert({
      user_id: c.user,
      external_id: external,
      amount: 10_000,
      currency: "EUR",
    });
    expect(conversion.body.conversion).toMatchObject({ status: "held", commission: 1000 });
    expect(await dueRow(c.referrer, "EUR")).toBeUndefined();
    expect((await pay(c.referrer, "EUR")).status).toBe(409);

    const released = await apiJson<Json>(`/referrals/${referral.id}/release`, { method: "POST" });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ id: referral.id, status: "ok", flags: ["paid_ads"] });
    expect((await apiJson<Json>(`/referrals/${referral.id}/release`, { method: "POST" })).status).toBe(200);
    expect((await apiJson<Json>(`/referrals/${referral.id}/reject`, { method: "POST" })).status).toBe(409);
    expect((await dueRow(c.referrer, "EUR"))?.amount).toBe(1000);
  });

  it("reject: conversions and later ones rejected with commission 0; idempotent; 409 and 404", async () => {
    const c = await clicked({ paidClick: "ttclid" });
    const referral = (await confirm(c.user)).body.referral;
    const before = await confirmedTotal(c.link.id);
    await convert({ user_id: c.user, external_id: externalId(), amount: 5000, currency: "EUR" });
    const rejected = await apiJson<Json>(`/referrals/${referral.id}/reject`, {
      method: "POST",
      json: { reason: "brand bidding" },
    });
    expect(rejected.body).toMatchObject({ status: "rejected", reason: "brand bidding" });
    const again = await apiJson<Json>(`/referrals/${referral.id}/reject`, { method: "POST", json: {} });
    expect(again).toMatchObject({ status: 200, body: { status: "rejected", reason: "brand bidding" } });
    expect((await apiJson<Json>(`/referrals/${referral.id}/release`, { method: "POST" })).status).toBe(409);
    expect((await apiJson<Json>("/referrals/999999999/release", { method: "POST" })).status).toBe(404);
    expect(await confirmedTotal(c.link.id)).toBe((before ?? 0) - 1);

    const later = await convert({
      user_id: c.user,
      external_id: externalId(),
      amount: 7000,
      currency: "EUR",
    });
    expect(later.body.conversion).toMatchObject({ status: "rejected", commission: 0 });
    const listed = await apiJson<Json>(`/conversions?user_id=${c.user}&status=rejected`);
    expect(listed.body.conversions).toHaveLength(2);
    expect(listed.body.conversions.every((x: Json) => x.commission === 0)).toBe(true);
    expect(await dueRow(c.referrer, "EUR")).toBeUndefined();
  });

  it("racing release and reject: one wins, the other is a conflict, the totals move at most once", async () => {
    const c = await clicked({ paidClick: "gclid" });
    const referral = (await confirm(c.user)).body.referral;
    const before = await confirmedTotal(c.link.id);
    const answers = await Promise.all([
      apiJson<Json>(`/referrals/${referral.id}/release`, { method: "POST" }),
      apiJson<Json>(`/referrals/${referral.id}/reject`, { method: "POST" }),
      apiJson<Json>(`/referrals/${referral.id}/reject`, { method: "POST" }),
      apiJson<Json>(`/referrals/${referral.id}/release`, { method: "POST" }),
    ]);
    const final = answers.find((a) => a.status === 200)?.body.status;
    for (const a of answers) expect(a.status).toBe(a.status === 200 ? 200 : 409);
    expect(answers.filter((a) => a.status === 200).every((a) => a.body.status === final)).toBe(true);
    expect(await confirmedTotal(c.link.id)).toBe((before ?? 0) - (final === "rejected" ? 1 : 0));
  });

  it("the review queue lists held referrals newest first with their evidence, by cursor", async () => {
    const link = await createLink(uniqueIdentifier("queue"), { userId: uniqueUser("q") });
    const a = await clicked({ paidClick: "gclid", ipHash: HASH(20) }, link);
    const b = await clicked({ paidClick: "gclid", ipHash: HASH(20) }, link);
    const ra = (await confirm(a.user)).body.referral;
    const rb = (await confirm(b.user)).body.referral;
    const page = await apiJson<Json>("/referrals?status=held&limit=1");
    expect(page.body.referrals[0]).toMatchObject({
      id: rb.id,
      evidence: { paid_click: "gclid", same_network_referrals: 2, country: null, asn: null },
    });
    const next = await apiJson<Json>(`/referrals?status=held&limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body.referrals[0].id).toBe(ra.id);
  });
});

describe("ban", () => {
  it("disables links, rejects unpaid commissions and held referrals, rejects later referrals at once; repeat changes nothing", async () => {
    const paid = await clicked();
    const link = paid.link;
    const referrer = paid.referrer;
    await confirm(paid.user);
    await convert(
      { user_id: paid.user, external_id: externalId(), amount: 1000, currency: "EUR" },
      DUE_AT_ONCE,
    );
    expect((await pay(referrer, "EUR")).status).toBe(201);
    await convert(
      { user_id: paid.user, external_id: externalId(), amount: 2000, currency: "EUR" },
      DUE_AT_ONCE,
    );
    const held = await clicked({ paidClick: "gclid" }, link, referrer);
    const heldReferral = (await confirm(held.user)).body.referral;
    const later = await clicked({}, link, referrer);
    const totalBefore = await confirmedTotal(link.id);

    const ban = await apiJson<Json>(`/users/${referrer}/ban`, { method: "POST", json: { reason: "fraud" } });
    expect(ban.status).toBe(200);
    expect(ban.body).toMatchObject({
      user_id: referrer,
      reason: "fraud",
      links_disabled: 1,
      commissions_rejected: 1,
    });
    expect(await confirmedTotal(link.id)).toBe((totalBefore ?? 0) - 1);
    const repeat = await apiJson<Json>(`/users/${referrer}/ban`, {
      method: "POST",
      json: { reason: "other" },
    });
    expect(repeat.body).toEqual(ban.body);

    expect((await apiJson<Json>(`/links/${link.identifier}`)).body.disabled).toBe(true);
    expect(
      (await apiJson<Json>(`/referrals?status=rejected&limit=100`)).body.referrals.map((r: Json) => r.id),
    ).toContain(heldReferral.id);
    const conversions = (await apiJson<Json>(`/conversions?referrer_user_id=${referrer}`)).body.conversions;
    expect(conversions.map((x: Json) => x.status).sort()).toEqual(["paid", "rejected"]);
    const laterReferral = (await confirm(later.user)).body.referral;
    expect(laterReferral).toMatchObject({ status: "rejected", reason: "referrer banned" });
    expect(await confirmedTotal(link.id)).toBe((totalBefore ?? 0) - 1);
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
  });
});
