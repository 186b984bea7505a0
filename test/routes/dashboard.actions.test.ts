/**
 * The dashboard's actions, as a browser sends its forms: each one's effect (in D1, and on what the
 * worker then does), the 303 back to the page (Post/Redirect/Get) with the view the form came from,
 * and the sentence the page then shows. The forms are read from the rendered page, token and all.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formToken } from "../../src/routes/dashboard/form-token";
import { API_TOKEN, apiJson, seedHit, uniqueUser } from "../support/api";
import {
  DASHBOARD,
  dashboardHtml,
  formFields,
  postForm,
  select,
  submitForm,
  texts,
} from "../support/dashboard";
import { createLink, hitsOf } from "../support/db";
import { converted, DUE_AT_ONCE, dueRow, referredUser } from "../support/money";
import { createWebhook, deliveriesOf, eventsOf, receiver } from "../support/webhooks";
import { send, uniqueIdentifier } from "../support/worker";

// Each test renders and posts several pages: room for a machine busy with other tests.
vi.setConfig({ testTimeout: 30_000 });

const today = new Date().toISOString().slice(0, 10);
const PERIOD = `from=${today}&to=${today}`;

const page = (search = PERIOD) => dashboardHtml(search);

/** Sends the page's form `selector` with some fields changed; expects the 303 and returns where to. */
async function submit(selector: string, changes: Record<string, string> = {}, rendered?: string) {
  return submitForm(rendered ?? (await page()), selector, changes);
}

/** The page the redirect leads to, and its flash. */
async function follow(location: URL) {
  const html = await page(location.search.slice(1));
  const [flash] = await select(html, "[data-flash]");
  return { html, kind: flash?.attributes["data-flash"], flash: flash?.text.trim() ?? null };
}

const linkRow = async (identifier: string) =>
  (await env.DB.prepare("SELECT * FROM referral_links WHERE identifier = ?").bind(identifier).first()) as {
    user_id: string | null;
    disabled: number;
    commission: string | null;
    referee_reward: string | null;
  } | null;

const CREATE = `form[action="${DASHBOARD}/links"]`;
const manage = (identifier: string, what: "disabled" | "commission" | "reward") =>
  `form[action="${DASHBOARD}/links/${identifier}/${what}"]`;

describe("creating a link", () => {
  it("for a user, with an identifier: stored, and the page says so with its URL", async () => {
    const identifier = uniqueIdentifier("made");
    const owner = uniqueUser("owner");
    const location = await submit(CREATE, { identifier, user_id: owner });
    expect(Object.fromEntries(location.searchParams)).toEqual({
      from: today,
      to: today,
      done: "link_created",
      subject: identifier,
    });
    expect(await linkRow(identifier)).toMatchObject({ user_id: owner, disabled: 0, commission: null });
    const { kind, flash, html } = await follow(location);
    expect(kind).toBe("done");
    // The dashboard's host is not the site's: the path, which the site's host completes.
    expect(flash).toBe(`Link ${identifier} created. Its URL: /ref/${identifier} on your site`);
    expect(await select(html, `table[data-table=links] tr[data-link="${identifier}"]`)).toHaveLength(1);
    // The API sees it too.
    expect((await apiJson(`/links/${identifier}`)).body).toMatchObject({ identifier, user_id: owner });
  });

  it("without an identifier: a random one of 10 characters, as POST /links makes", async () => {
    const owner = uniqueUser("owner");
    const location = await submit(CREATE, { user_id: owner });
    const identifier = location.searchParams.get("subject") ?? "";
    expect(identifier).toMatch(/^[A-Za-z0-9_-]{10}$/);
    expect(await linkRow(identifier)).toMatchObject({ user_id: owner });
  });

  it("with no owner: made, and the page says that its referrals earn no one a commission", async () => {
    const identifier = uniqueIdentifier("nobody");
    const location = await submit(CREATE, { identifier, user_id: "" });
    expect(await linkRow(identifier)).toMatchObject({ user_id: null });
    const { kind, flash } = await follow(location);
    expect(kind).toBe("done");
    expect(flash).toBe(
      `Link ${identifier} created. Its URL: /ref/${identifier} on your site (no owner: its referrals earn no one a commission; give it one with PATCH /links)`,
    );
  });

  it("an identifier taken, or not an identifier: nothing created, and the page says why", async () => {
    const taken = await createLink(uniqueIdentifier("taken"), { userId: "first" });
    const again = await submit(CREATE, { identifier: taken.identifier, user_id: "second" });
    expect(again.searchParams.get("failed")).toBe("identifier_taken");
    expect(await linkRow(taken.identifier)).toMatchObject({ user_id: "first" });
    const { kind, flash } = await follow(again);
    expect(kind).toBe("failed");
    expect(flash).toBe(`No link created: the identifier ${taken.identifier} is taken.`);

    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM referral_links").first<{ n: number }>();
    const bad = await submit(CREATE, { identifier: "no spaces/here", user_id: "x" });
    expect(Object.fromEntries(bad.searchParams)).toMatchObject({ failed: "invalid", field: "identifier" });
    expect((await follow(bad)).flash).toBe(
      "Nothing changed: the identifier must be 1-50 characters of A-Z, a-z, 0-9, _ and -, or empty for a random one.",
    );
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM referral_links").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });
});

describe("disabling and enabling a link", () => {
  it("a disabled link records no hit from the next click on (this isolate's cache too); enabled, it does again", async () => {
    const link = await createLink(uniqueIdentifier("toggle"));
    const click = async () => {
      const response = await send(`/ref/${link.identifier}`);
      await response.body?.cancel();
      expect(response.status).toBe(302);
    };
    await click(); // the worker now remembers the link as enabled
    expect(await hitsOf(link.id)).toHaveLength(1);

    const html = await page();
    expect(await texts(html, `tr[data-link="${link.identifier}"] [data-status]`)).toEqual(["enabled"]);
    const off = await submit(manage(link.identifier, "disabled"), {}, html);
    expect(off.searchParams.get("done")).toBe("link_disabled");
    expect((await linkRow(link.identifier))?.disabled).toBe(1);
    const shown = await follow(off);
    expect(shown.flash).toBe(
      `Link ${link.identifier} disabled: its URL still redirects, but records no hit.`,
    );
    expect(await texts(shown.html, `tr[data-link="${link.identifier}"] [data-status]`)).toEqual(["disabled"]);
    await click();
    expect(await hitsOf(link.id)).toHaveLength(1);

    const on = await submit(manage(link.identifier, "disabled"), {}, shown.html);
    expect(on.searchParams.get("done")).toBe("link_enabled");
    expect((await linkRow(link.identifier))?.disabled).toBe(0);
    expect((await follow(on)).flash).toBe(`Link ${link.identifier} enabled: its hits are recorded again.`);
    await click();
    expect(await hitsOf(link.id)).toHaveLength(2);
  });

  it("a link deleted since the page was rendered: nothing changed, and the page says so", async () => {
    const link = await createLink(uniqueIdentifier("gone"));
    const html = await page();
    const deleted = await apiJson(`/links/${link.identifier}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const location = await submit(manage(link.identifier, "disabled"), {}, html);
    expect(location.searchParams.get("failed")).toBe("link_not_found");
    expect((await follow(location)).flash).toBe(
      `Nothing changed: there is no link ${link.identifier} (any more).`,
    );
  });
});

describe("a link's commission", () => {
  it("set: the next conversion earns it; cleared: the COMMISSION setting again", async () => {
    const { user, link } = await referredUser();
    const set = await submit(manage(link.identifier, "commission"), { commission: "percent:25" });
    expect(set.searchParams.get("done")).toBe("commission_set");
    expect((await linkRow(link.identifier))?.commission).toBe("percent:25");
    const shown = await follow(set);
    expect(shown.flash).toBe(
      `Commission of link ${link.identifier} saved: it applies to conversions from now on.`,
    );
    expect(await texts(shown.html, `tr[data-link="${link.identifier}"] summary`)).toEqual([
      "Commission: percent:25",
      "Reward for friends: none",
    ]);
    // DUE_AT_ONCE says percent:10; the link's 25 % wins.
    expect((await converted(user, 10_000)).commission).toBe(2_500);

    const cleared = await submit(manage(link.identifier, "commission"), { commission: "" });
    expect(cleared.searchParams.get("done")).toBe("commission_cleared");
    expect((await linkRow(link.identifier))?.commission).toBeNull();
    expect((await converted(user, 10_000)).commission).toBe(1_000);
  });

  it("not a commission rule: refused, the link unchanged, the page says what it must be", async () => {
    const link = await createLink(uniqueIdentifier("rule"));
    for (const commission of ["percent:101", "half", "fixed:-5"]) {
      const location = await submit(manage(link.identifier, "commission"), { commission });
      expect(Object.fromEntries(location.searchParams), commission).toMatchObject({
        failed: "invalid",
        field: "commission",
      });
      expect((await linkRow(link.identifier))?.commission).toBeNull();
      expect((await follow(location)).flash).toBe(
        "Nothing changed: the commission must be percent:N (0-100, up to two decimals) or fixed:N (minor units), or empty for the default.",
      );
    }
  });
});

describe("a link's friend's reward", () => {
  it("set: the link carries it (the next click's referral cookie names it); cleared: nothing", async () => {
    const link = await createLink(uniqueIdentifier("reward"));
    const set = await submit(manage(link.identifier, "reward"), { referee_reward: " 20% off " });
    expect(set.searchParams.get("done")).toBe("reward_set");
    expect((await linkRow(link.identifier))?.referee_reward).toBe("20% off");
    const shown = await follow(set);
    expect(shown.flash).toBe(
      `Reward for friends of link ${link.identifier} saved: its next clicks carry it to your site (Reflinks-Referral).`,
    );
    expect(await texts(shown.html, `tr[data-link="${link.identifier}"] summary`)).toContain(
      "Reward for friends: 20% off",
    );
    const click = await send(`/ref/${link.identifier}`);
    expect(click.headers.getSetCookie().find((cookie) => cookie.startsWith("reflinks_ref="))).toContain(
      "reward%3D20%2525%2520off",
    );
    const cleared = await submit(manage(link.identifier, "reward"), { referee_reward: "" });
    expect(cleared.searchParams.get("done")).toBe("reward_cleared");
    expect((await linkRow(link.identifier))?.referee_reward).toBeNull();
  });

  it("too long, or with a control character: refused, the link unchanged, the page says why", async () => {
    const link = await createLink(uniqueIdentifier("badreward"));
    for (const referee_reward of ["x".repeat(201), "20%\u0000off", "\u202Eoff"]) {
      const location = await submit(manage(link.identifier, "reward"), {
        referee_reward,
      });
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        failed: "invalid",
        field: "referee_reward",
      });
      expect((await linkRow(link.identifier))?.referee_reward).toBeNull();
      expect((await follow(location)).flash).toMatch(
        /^Nothing changed: the reward for friends must be at most 200/,
      );
    }
  });
});

describe("recording a payout", () => {
  /** A referrer with 10.00 EUR due (a 100.00 EUR payment at 10 %, no hold). */
  async function referrerOwed() {
    const { user, referrer } = await referredUser();
    await converted(user, 10_000, { currency: "EUR", bindings: DUE_AT_ONCE });
    expect((await dueRow(referrer, "EUR"))?.amount).toBe(1_000);
    return referrer;
  }
  const payForm = (referrer: string) =>
    `table[data-table=due] tr[data-referrer="${referrer}"][data-currency=EUR] form`;

  it("pays what is due, once however often the form is sent: POST /payouts with the form's key", async () => {
    const referrer = await referrerOwed();
    const html = await page();
    expect(await texts(html, `${payForm(referrer)} button`)).toEqual(["Record payout of 10.00 EUR"]);
    const fields = await formFields(html, payForm(referrer));
    expect(fields.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);

    const first = await submit(payForm(referrer), {}, html);
    expect(first.searchParams.get("done")).toBe("payout_created");
    const id = Number(first.searchParams.get("payout"));
    const payouts = await apiJson(`/payouts?referrer_user_id=${referrer}`);
    expect(payouts.body.payouts).toEqual([
      expect.objectContaining({ id, amount: 1_000, currency: "EUR", conversions: 1 }),
    ]);
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    const shown = await follow(first);
    expect(shown.flash).toBe(`Payout #${id} recorded: 10.00 EUR to ${referrer} (1 conversion, 0 clawbacks).`);
    expect(
      (await select(shown.html, `table[data-table=payouts] tr[data-payout="${id}"]`))[0]?.attributes,
    ).toMatchObject({
      "aria-current": "true",
    });
    expect(await select(shown.html, payForm(referrer))).toEqual([]);

    // The second click of a double click: the same form, the same key. Nothing paid twice.
    const second = await submit(payForm(referrer), {}, html);
    expect(Object.fromEntries(second.searchParams)).toMatchObject({
      done: "payout_existing",
      payout: String(id),
    });
    expect((await apiJson(`/payouts?referrer_user_id=${referrer}`)).body.payouts).toHaveLength(1);
    expect((await follow(second)).flash).toBe(
      `Payout #${id} was already recorded by this form (10.00 EUR to ${referrer} (1 conversion, 0 clawbacks)): nothing was paid twice.`,
    );

    // Another form (a new key) for the same referrer: nothing is due any more.
    const third = await submit(payForm(referrer), { idempotency_key: crypto.randomUUID() }, html);
    expect(third.searchParams.get("failed")).toBe("nothing_due");
    expect((await follow(third)).flash).toBe(
      "Nothing paid: nothing is due to that referrer in that currency now.",
    );
    expect((await apiJson(`/payouts?referrer_user_id=${referrer}`)).body.payouts).toHaveLength(1);
  });

  it("sent twice at once: one payout", async () => {
    const referrer = await referrerOwed();
    const html = await page();
    const fields = await formFields(html, payForm(referrer));
    const responses = await Promise.all([
      postForm(`${DASHBOARD}/payouts`, fields),
      postForm(`${DASHBOARD}/payouts`, fields),
    ]);
    const outcomes = responses.map((response) =>
      new URL(response.headers.get("Location") ?? "", "https://x").searchParams.get("done"),
    );
    expect(outcomes.sort()).toEqual(["payout_created", "payout_existing"]);
    expect((await apiJson(`/payouts?referrer_user_id=${referrer}`)).body.payouts).toHaveLength(1);
  });

  it("a key used for another referrer's payout is refused: nothing paid", async () => {
    const one = await referrerOwed();
    const other = await referrerOwed();
    const html = await page();
    const key = (await formFields(html, payForm(one))).idempotency_key ?? "";
    await submit(payForm(one), {}, html);
    const reused = await submit(payForm(other), { idempotency_key: key }, html);
    expect(reused.searchParams.get("failed")).toBe("key_reused");
    expect((await dueRow(other, "EUR"))?.amount).toBe(1_000);
  });
});

describe("the redirect", () => {
  it("comes back to the view the form was sent from, and to nothing else", async () => {
    const link = await createLink(uniqueIdentifier("view"));
    const html = await page(`from=2025-01-01&to=2025-01-31&link=${link.identifier}`);
    const fields = await formFields(html, manage(link.identifier, "disabled"));
    expect(fields.back).toBe(`from=2025-01-01&to=2025-01-31&link=${link.identifier}`);
    const location = await submit(manage(link.identifier, "disabled"), {}, html);
    expect(location.pathname + location.search).toBe(
      `${DASHBOARD}?from=2025-01-01&to=2025-01-31&link=${link.identifier}&done=link_disabled&subject=${link.identifier}`,
    );
    // A doctored `back` keeps only what is a valid view.
    const doctored = await submit(manage(link.identifier, "disabled"), {
      back: "from=%3Cscript%3E&to=2025-01-31&next=https://evil.example&page=2",
    });
    expect(doctored.pathname + doctored.search).toBe(
      `${DASHBOARD}?to=2025-01-31&page=2&done=link_enabled&subject=${link.identifier}`,
    );
  });
});

describe("the outcome in the URL", () => {
  it("is shown as one of the page's own sentences, as text; anything else shows nothing", async () => {
    const shown = async (search: string) => {
      const html = await page(`${PERIOD}&${search}`);
      return { html, flash: await texts(html, "[data-flash]") };
    };
    expect((await shown("done=link_enabled&subject=abc")).flash).toEqual([
      "Link abc enabled: its hits are recorded again.",
    ]);
    for (const search of [
      "done=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "failed=%3Cb%3Ebad%3C%2Fb%3E",
      "done=hacked",
      "message=Your+account+is+closed",
    ]) {
      const { html, flash } = await shown(search);
      expect(flash, search).toEqual([]);
      expect(html).not.toMatch(/<script|<b>bad|hacked|account is closed/i);
    }
    // A subject that is not an identifier, or a field the page does not know, is left out.
    const { html, flash } = await shown("done=link_disabled&subject=%3Cimg%20src%3Dx%3E");
    expect(flash).toEqual(["Link disabled: its URL still redirects, but records no hit."]);
    expect(html).not.toContain("<img");
    expect((await shown("failed=invalid&field=%3Cb%3E")).flash).toEqual([
      "Nothing changed: a field of the form is invalid.",
    ]);
  });
});

describe("unique hits", () => {
  it("are shown beside the hits: a visitor's repeat within the dedupe window is a hit, not a unique one", async () => {
    const link = await createLink(uniqueIdentifier("uniq"));
    const visitor = crypto.randomUUID();
    await seedHit(link.id, { anonymousId: visitor });
    await seedHit(link.id, { anonymousId: visitor, duplicate: true });
    await seedHit(link.id, { anonymousId: crypto.randomUUID() });
    const html = await page(`${PERIOD}&link=${link.identifier}`);
    expect(await texts(html, `tr[data-link="${link.identifier}"] [data-col=hits]`)).toEqual(["3"]);
    expect(await texts(html, `tr[data-link="${link.identifier}"] [data-col=unique_hits]`)).toEqual(["2"]);
    expect(await texts(html, "[data-total=hits]")).toEqual(["3"]);
    expect(await texts(html, "[data-total=unique_hits]")).toEqual(["2"]);
  });
});

describe("webhook failures", () => {
  const created: string[] = [];
  afterEach(async () => {
    for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
  });

  /** A webhook of link.created at `behaviour`, and a link made on the dashboard: its event's first attempt. */
  async function failedOnce(behaviour: string) {
    const box = receiver(behaviour);
    const webhook = await createWebhook(box.url, ["link.created"]);
    created.push(webhook.id);
    const identifier = uniqueIdentifier("hooked");
    await submit(CREATE, { identifier, user_id: "hook-owner" });
    expect((await box.received()).requests).toHaveLength(1);
    const [delivery] = await deliveriesOf(webhook.id);
    expect(delivery).toMatchObject({ attempt: 1, status_code: 500 });
    return { box, webhook, identifier, delivery };
  }

  const section = (id: string) => `[data-webhook="${id}"]`;

  it("lists each webhook's failed attempts; Send again sends the event now, as the API's retry does", async () => {
    const { box, webhook, delivery } = await failedOnce("fail-1");
    const html = await page();
    expect(await texts(html, `${section(webhook.id)} h3`)).toEqual([box.url]);
    const row = `${section(webhook.id)} tr[data-delivery="${delivery?.id}"]`;
    expect(await texts(html, `${row} td`)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      "link.created",
      "1",
      "HTTP 500",
      "retrying",
      "Send again now",
    ]);

    const location = await submit(`${row} form`, {}, html);
    expect(location.searchParams.get("done")).toBe("webhook_delivered");
    const requests = (await box.received()).requests;
    expect(requests).toHaveLength(2);
    // The same event, byte for byte: a receiver dedupes on webhook-id.
    expect(requests[1]?.headers["webhook-id"]).toBe(requests[0]?.headers["webhook-id"]);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect((await eventsOf(webhook.id)).map((event) => event.status)).toEqual(["delivered"]);
    const shown = await follow(location);
    expect(shown.flash).toBe("Event sent again: the receiver accepted it.");
    // The failed attempt stays in the list, marked as delivered since, with nothing left to retry.
    expect(await texts(shown.html, `${row} [data-event-status]`)).toEqual(["delivered since"]);
    expect(await select(shown.html, `${row} form`)).toEqual([]);
  });

  it("a payout recorded on the dashboard sends payout.created, as POST /payouts does", async () => {
    const box = receiver("ok");
    const webhook = await createWebhook(box.url, ["payout.created"]);
    created.push(webhook.id);
    const { user, referrer } = await referredUser();
    await converted(user, 5_000, { currency: "EUR", bindings: DUE_AT_ONCE });
    const location = await submit(`table[data-table=due] tr[data-referrer="${referrer}"] form`);
    expect(location.searchParams.get("done")).toBe("payout_created");
    const [event] = await eventsOf(webhook.id);
    expect(event).toMatchObject({ type: "payout.created", status: "delivered" });
    expect(JSON.parse(event?.payload ?? "{}").data).toMatchObject({
      id: Number(location.searchParams.get("payout")),
      referrer_user_id: referrer,
      amount: 500,
    });
  });

  it("a receiver still failing: the page says so, and the new attempt is listed", async () => {
    const { webhook, delivery } = await failedOnce("status-500");
    const html = await page();
    const location = await submit(
      `${section(webhook.id)} tr[data-delivery="${delivery?.id}"] form`,
      {},
      html,
    );
    expect(location.searchParams.get("done")).toBe("webhook_failed_again");
    const shown = await follow(location);
    expect(shown.flash).toBe("Event sent again, and it failed again: see the newest attempt below.");
    expect(await select(shown.html, `${section(webhook.id)} tr[data-delivery]`)).toHaveLength(2);
  });

  it("a delivery that is not the webhook's, or none: nothing sent", async () => {
    const { box, webhook, delivery } = await failedOnce("fail-1");
    const other = await createWebhook(receiver("ok").url, ["payout.created"]);
    created.push(other.id);
    const html = await page();
    const fields = await formFields(html, `${section(webhook.id)} tr[data-delivery="${delivery?.id}"] form`);
    const otherAction = `${DASHBOARD}/webhooks/${other.id}/retry`;
    for (const [action, sent] of [
      [`${DASHBOARD}/webhooks/${webhook.id}/retry`, { ...fields, delivery_id: "999999" }],
      [`${DASHBOARD}/webhooks/${webhook.id}/retry`, { ...fields, delivery_id: "" }],
      // A valid form for the other webhook, naming this webhook's delivery.
      [otherAction, { ...fields, form_token: await formToken(API_TOKEN, otherAction) }],
    ] as const) {
      const response = await postForm(action, sent);
      await response.body?.cancel();
      expect(response.status).toBe(303);
      const outcome = new URL(response.headers.get("Location") ?? "", "https://x").searchParams;
      expect(outcome.get("failed"), JSON.stringify(sent)).toBe("event_not_found");
    }
    expect((await box.received()).requests).toHaveLength(1);
  });
});
