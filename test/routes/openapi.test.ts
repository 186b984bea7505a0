/**
 * The API answers what its OpenAPI document says (docs/api.md): every route the app serves is in
 * the document's route table, and for every route an answer made from this test's own data is
 * checked against the document's schema for its status, with a maintained JSON Schema validator
 * that runs in the Workers runtime (@cfworker/json-schema, no eval).
 */

import { env } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { API_ROUTES, type RouteName } from "../../src/routes/api/contract";
import { API_PREFIX, createApiApp } from "../../src/routes/api/index";
import document from "../../src/routes/api/openapi.json";
import { API_TOKEN, api, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };

/** The document's schema for one route's answer with `status`; null when that answer has no body. */
function answerSchema(method: string, path: string, status: number) {
  const paths = document.paths as unknown as Record<string, Record<string, Operation>>;
  const openApiPath = `${API_PREFIX}${path.replace(/:([a-z_]+)/g, "{$1}")}`;
  const response = paths[openApiPath]?.[method]?.responses[String(status)];
  if (!response) throw new Error(`the document has no ${status} for ${method.toUpperCase()} ${openApiPath}`);
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return null;
  // Components become $defs, so the validator resolves the document's references by itself.
  const json = JSON.stringify({ ...schema, $defs: document.components.schemas }).replaceAll(
    "#/components/schemas/",
    "#/$defs/",
  );
  return JSON.parse(json);
}

/** Checks an answer against the document: its status is described, and its body fits the schema. */
async function expectDescribed(name: RouteName, response: Response) {
  const route = API_ROUTES[name];
  const schema = answerSchema(route.method, route.path, response.status);
  const text = await response.text();
  if (schema === null) return;
  const result = new Validator(schema, "2020-12", false).validate(JSON.parse(text));
  expect(result.errors, `${name} ${response.status}: ${text.slice(0, 300)}`).toEqual([]);
}

const json = (body: unknown) => ({ json: body });

/** The id of a new referral held for review: its hit came from a paid ad click. */
async function heldReferral(linkId: number): Promise<number> {
  const user = uniqueUser("doc-held");
  await seedHit(linkId, { hitUserId: user, anonymousId: crypto.randomUUID(), paidClick: "gclid" });
  const answer = (await (await api("/confirm", { method: "POST", ...json({ user_id: user }) })).json()) as {
    referral: { id: number; status: string };
  };
  if (answer.referral.status !== "held") throw new Error("the referral was not held");
  return answer.referral.id;
}

/**
 * One request per route, made from this test's own data, and the status it must answer. A route
 * added to the table without a line here fails the first test below.
 */
async function requests(): Promise<Record<RouteName, () => Promise<Response>>> {
  const link = await createLink(uniqueIdentifier("doc"), { userId: "doc-owner" });
  const user = uniqueUser("doc-user");
  await seedHit(link.id, { hitUserId: user, anonymousId: crypto.randomUUID() });
  await seedHit(link.id, { hitUserId: null, anonymousId: crypto.randomUUID(), authenticated: false });
  return {
    health: () => api("/health", { token: null }),
    openapi: () => api("/openapi.json", { token: null }),
    createLink: () => api("/links", { method: "POST", ...json({ user_id: "doc-owner" }) }),
    listLinks: () => api("/links?limit=2"),
    getLink: () => api(`/links/${link.identifier}`),
    updateLink: () => api(`/links/${link.identifier}`, { method: "PATCH", ...json({ disabled: false }) }),
    listHits: () => api(`/links/${link.identifier}/hits?limit=1`),
    createCoupon: () =>
      api(`/links/${link.identifier}/coupons`, {
        method: "POST",
        ...json({ code: `doc${crypto.randomUUID().slice(0, 8)}` }),
      }),
    deleteCoupon: async () => {
      const code = `gone${crypto.randomUUID().slice(0, 8)}`;
      await api(`/links/${link.identifier}/coupons`, { method: "POST", ...json({ code }) });
      return api(`/links/${link.identifier}/coupons/${code}`, { method: "DELETE" });
    },
    getLinkQr: () => api(`/links/${link.identifier}/qr.svg`),
    reconcile: () => api("/reconcile", { method: "POST", ...json({ user_id: user, anonymous_id: null }) }),
    confirm: () => api("/confirm", { method: "POST", ...json({ user_id: user, event: "doc" }) }),
    linkReport: () => api("/reports/links?from=2020-01-01"),
    dailyReport: () => api(`/reports/daily?link=${link.identifier}`),
    revenueReport: () => api("/reports/revenue?from=2020-01-01"),
    earningsReport: () => api("/reports/earnings"),
    dashboard: () =>
      send(`https://admin.shop.example${API_PREFIX}/dashboard`, {
        headers: { Authorization: `Basic ${btoa(`any:${API_TOKEN}`)}` },
      }),
    createConversion: () =>
      api("/conversions", {
        method: "POST",
        ...json({ user_id: user, external_id: `in_${crypto.randomUUID()}`, amount: 1999, currency: "EUR" }),
      }),
    listConversions: () => api(`/conversions?user_id=${user}`),
    getConversion: async () => {
      const externalId = `in_${crypto.randomUUID()}`;
      await api("/conversions", {
        method: "POST",
        ...json({ user_id: user, external_id: externalId, amount: 500, currency: "USD" }),
      });
      return api(`/conversions/${externalId}`);
    },
    reverseConversion: async () => {
      const externalId = `in_${crypto.randomUUID()}`;
      await api("/conversions", {
        method: "POST",
        ...json({ user_id: user, external_id: externalId, amount: 800, currency: "USD" }),
      });
      return api(`/conversions/${externalId}/reverse`, {
        method: "POST",
        ...json({ reversal_id: `re_${externalId}` }),
      });
    },
    payoutsDue: () => api("/payouts/due"),
    createPayout: async () => {
      await api("/conversions", {
        method: "POST",
        ...json({ user_id: user, external_id: `in_${crypto.randomUUID()}`, amount: 10_000, currency: "GBP" }),
        bindings: { HOLD_DAYS: "0", COMMISSION: "percent:10" },
      });
      return api("/payouts", {
        method: "POST",
        headers: { "Idempotency-Key": crypto.randomUUID() },
        ...json({ referrer_user_id: "doc-owner", currency: "GBP" }),
      });
    },
    listPayouts: () => api("/payouts?referrer_user_id=doc-owner"),
    listReferrals: () => api("/referrals?status=held&limit=5"),
    releaseReferral: async () => api(`/referrals/${await heldReferral(link.id)}/release`, { method: "POST" }),
    rejectReferral: async () =>
      api(`/referrals/${await heldReferral(link.id)}/reject`, { method: "POST", ...json({ reason: "doc" }) }),
    banUser: () =>
      api(`/users/${uniqueUser("doc-banned")}/ban`, { method: "POST", ...json({ reason: "doc" }) }),
    ...(await payoutRunRequests(user)),
    setPayoutMethod: () =>
      api("/users/doc-owner/payout-method", {
        method: "PUT",
        ...json({ type: "iban", iban: "DE89 3704 0044 0532 0130 00", account_name: "Doc Owner" }),
      }),
    getUser: () => api("/users/doc-owner"),
    exportUser: () => api("/users/doc-owner/export"),
    eraseUser: () => api("/users/doc-erased", { method: "DELETE" }),
    createPortalLink: () => api(`/users/${user}/portal-link`, { method: "POST" }),
    createWebhook: () =>
      api("/webhooks", {
        method: "POST",
        ...json({ url: "https://hooks.example/doc", events: ["payout.created"] }),
      }),
    listWebhooks: () => api("/webhooks"),
    deleteWebhook: async () => {
      const created = await (
        await api("/webhooks", {
          method: "POST",
          ...json({ url: "https://hooks.example/gone", events: ["link.created"] }),
        })
      ).json<{ id: string }>();
      return api(`/webhooks/${created.id}`, { method: "DELETE" });
    },
    ...(await webhookDeliveryRequests()),
    deleteLink: async () => {
      const doomed = await createLink(uniqueIdentifier("doc-doomed"));
      return api(`/links/${doomed.identifier}`, { method: "DELETE" });
    },
  };
}

/** A run in a currency of its own (CHF: no other request here pays in it), and its file. */
async function payoutRunRequests(user: string) {
  await api("/conversions", {
    method: "POST",
    ...json({ user_id: user, external_id: `in_${crypto.randomUUID()}`, amount: 10_000, currency: "CHF" }),
    bindings: { HOLD_DAYS: "0", COMMISSION: "percent:10" },
  });
  const made = await api("/payout-runs", {
    method: "POST",
    headers: { "Idempotency-Key": crypto.randomUUID() },
    ...json({ currency: "CHF" }),
  });
  const { run } = await made.json<{ run: { id: number } }>();
  return {
    createPayoutRun: async () => {
      await api("/conversions", {
        method: "POST",
        ...json({ user_id: user, external_id: `in_${crypto.randomUUID()}`, amount: 10_000, currency: "CHF" }),
        bindings: { HOLD_DAYS: "0", COMMISSION: "percent:10" },
      });
      return api("/payout-runs", {
        method: "POST",
        headers: { "Idempotency-Key": crypto.randomUUID() },
        ...json({ currency: "CHF" }),
      });
    },
    listPayoutRuns: () => api("/payout-runs?limit=2"),
    getPayoutRun: () => api(`/payout-runs/${run.id}`),
    getPayoutRunFile: () => api(`/payout-runs/${run.id}/file?format=csv`),
  };
}

/** An endpoint with one delivery to list and retry (a receiver on the stub origin). */
async function webhookDeliveryRequests() {
  const receiver = `${env.ORIGIN_URL}/webhook-receiver/${crypto.randomUUID()}/ok`;
  const webhook = await (
    await api("/webhooks", { method: "POST", ...json({ url: receiver, events: ["link.created"] }) })
  ).json<{ id: string }>();
  await api("/links", { method: "POST", ...json({ identifier: uniqueIdentifier("doc-hook") }) });
  const { deliveries } = await (await api(`/webhooks/${webhook.id}/deliveries`)).json<{
    deliveries: { id: number }[];
  }>();
  return {
    listWebhookDeliveries: () => api(`/webhooks/${webhook.id}/deliveries?limit=1`),
    retryWebhookDelivery: () =>
      api(`/webhooks/${webhook.id}/deliveries/${deliveries[0]?.id}/retry`, { method: "POST" }),
  };
}

describe("the route table and the app", () => {
  it("the app serves exactly the routes of the table, and the test below asks each one", async () => {
    const served = createApiApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method} ${route.path}`);
    const declared = Object.values(API_ROUTES).map(
      (route) => `${route.method.toUpperCase()} ${API_PREFIX}${route.path}`,
    );
    expect([...new Set(served)].sort()).toEqual(declared.sort());
    expect(Object.keys(await requests()).sort()).toEqual(Object.keys(API_ROUTES).sort());
  });

  it("GET /_reflinks/openapi.json needs no token and answers the committed document", async () => {
    const response = await api("/openapi.json", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(document);
    // Also where the API is switched off: the document holds no data.
    const disabled = await api("/openapi.json", { token: null, bindings: { API_TOKEN: "" } });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toEqual(document);
  });
});

describe("every route answers what the document describes", () => {
  it("with each route's success answer", async () => {
    const all = await requests();
    for (const [name, request] of Object.entries(all) as [RouteName, () => Promise<Response>][]) {
      const response = await request();
      expect(response.status, name).toBeLessThan(300);
      await expectDescribed(name, response);
    }
  });

  it("with errors: 401, 404, 405, 409, 422 and no_referral are each a described Error", async () => {
    const link = await createLink(uniqueIdentifier("doc-errors"));
    const cases: [RouteName, () => Promise<Response>, number][] = [
      ["listLinks", () => api("/links", { token: "wrong" }), 401],
      ["getLink", () => api("/links/no-such-link-here"), 404],
      ["createLink", () => api("/links", { method: "POST", ...json({ identifier: link.identifier }) }), 409],
      ["createLink", () => api("/links", { method: "POST", ...json({ identifer: "typo" }) }), 422],
      ["confirm", () => api("/confirm", { method: "POST", ...json({ user_id: uniqueUser() }) }), 404],
      ["confirm", () => api("/confirm", { method: "POST", body: "{not json" }), 400],
      ["listHits", () => api(`/links/${link.identifier}/hits?limit=0`), 422],
      ["reconcile", () => api("/reconcile", { method: "PUT" }), 405],
      ["getConversion", () => api("/conversions/in_nothing_here"), 404],
      [
        "createPayout",
        () => api("/payouts", { method: "POST", ...json({ referrer_user_id: "x", currency: "EUR" }) }),
        422,
      ],
      [
        "createPayout",
        () =>
          api("/payouts", {
            method: "POST",
            headers: { "Idempotency-Key": crypto.randomUUID() },
            ...json({ referrer_user_id: "nobody-is-owed", currency: "EUR" }),
          }),
        409,
      ],
    ];
    for (const [name, request, status] of cases) {
      const response = await request();
      expect(response.status, name).toBe(status);
      await expectDescribed(name, response);
    }
  });
});
