/**
 * A link's options (docs/api.md#links): `referee_reward`, `expires_at`, `commission_payments` and
 * its `coupons`, through `POST`/`PATCH /links` and the coupon routes; an expired link behaves as
 * a disabled one on both referral routes; `REF_PARAM` as a list.
 */
import { describe, expect, it } from "vitest";
import { apiError, apiJson, daysAgo } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

const HOUR = 3_600_000;

describe("link options", () => {
  it("POST /links takes referee_reward, expires_at and commission_payments; the link shows them and its coupons", async () => {
    const identifier = uniqueIdentifier("opts");
    const created = await apiJson("/links", {
      method: "POST",
      json: {
        identifier,
        user_id: "alice",
        referee_reward: "20% off",
        expires_at: "2031-01-02T03:04:05+01:00",
        commission_payments: 3,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      referee_reward: "20% off",
      expires_at: "2031-01-02T02:04:05.000Z",
      commission_payments: 3,
      coupons: [],
    });

    const coupon = await apiJson(`/links/${identifier}/coupons`, {
      method: "POST",
      json: { code: "pod-Cast_1" },
    });
    expect(coupon.status).toBe(201);
    expect(coupon.body).toEqual({
      coupon: { code: "POD-CAST_1", link: identifier, created_at: expect.any(String) },
    });
    expect((await apiJson(`/links/${identifier}`)).body.coupons).toEqual(["POD-CAST_1"]);
    const listed = await apiJson("/links?user_id=alice&limit=200");
    expect(
      listed.body.links.find((l: { identifier: string }) => l.identifier === identifier).coupons,
    ).toEqual(["POD-CAST_1"]);

    const patched = await apiJson(`/links/${identifier}`, {
      method: "PATCH",
      json: { referee_reward: null, expires_at: null, commission_payments: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      referee_reward: null,
      expires_at: null,
      commission_payments: null,
      coupons: ["POD-CAST_1"],
    });
  });

  it.each([
    [{ referee_reward: "x".repeat(201) }, "referee_reward"],
    [{ referee_reward: "a\u202Eb" }, "referee_reward"],
    [{ referee_reward: "" }, "referee_reward"],
    [{ expires_at: "tomorrow" }, "expires_at"],
    [{ commission_payments: -1 }, "commission_payments"],
    [{ commission_payments: 1.5 }, "commission_payments"],
  ])("refuses %j with 422 naming the field", async (fields, field) => {
    const answer = await apiJson("/links", { method: "POST", json: fields });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", new RegExp(field)));
  });
});

describe("coupons", () => {
  it("a code taken by any link, this one included, in any case, is 409", async () => {
    const first = await createLink(uniqueIdentifier("c1"));
    const second = await createLink(uniqueIdentifier("c2"));
    const code = `SPRING${crypto.randomUUID().slice(0, 6)}`;
    const made = await apiJson(`/links/${first.identifier}/coupons`, { method: "POST", json: { code } });
    expect(made.status).toBe(201);
    for (const link of [first, second]) {
      const again = await apiJson(`/links/${link.identifier}/coupons`, {
        method: "POST",
        json: { code: code.toLowerCase() },
      });
      expect(again.status).toBe(409);
      expect(again.body).toEqual(apiError("conflict"));
    }
  });

  it.each([["ab"], ["x".repeat(41)], ["with space"], ["ümlaut"], [42]])(
    "an invalid code %j is 422 naming code",
    async (code) => {
      const link = await createLink(uniqueIdentifier("bad"));
      const answer = await apiJson(`/links/${link.identifier}/coupons`, { method: "POST", json: { code } });
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /code/));
    },
  );

  it("DELETE removes the link's own code (any case) with 204; another link's code or an unknown link is 404", async () => {
    const owner = await createLink(uniqueIdentifier("d1"));
    const other = await createLink(uniqueIdentifier("d2"));
    const code = `GONE${crypto.randomUUID().slice(0, 6)}`;
    await apiJson(`/links/${owner.identifier}/coupons`, { method: "POST", json: { code } });
    const wrong = await apiJson(`/links/${other.identifier}/coupons/${code}`, { method: "DELETE" });
    expect(wrong.status).toBe(404);
    const unknown = await apiJson(`/links/no-such-${crypto.randomUUID()}/coupons/${code}`, {
      method: "DELETE",
    });
    expect(unknown.status).toBe(404);
    const deleted = await apiJson(`/links/${owner.identifier}/coupons/${code.toLowerCase()}`, {
      method: "DELETE",
    });
    expect(deleted.status).toBe(204);
    expect((await apiJson(`/links/${owner.identifier}`)).body.coupons).toEqual([]);
    const twice = await apiJson(`/links/${owner.identifier}/coupons/${code}`, { method: "DELETE" });
    expect(twice.status).toBe(404);
  });
});

describe("an expired link behaves as disabled", () => {
  it("/ref/ redirects without a hit once expires_at has passed, and records hits before it", async () => {
    const past = await createLink(uniqueIdentifier("expired"));
    await apiJson(`/links/${past.identifier}`, {
      method: "PATCH",
      json: { expires_at: new Date(Date.now() - HOUR).toISOString() },
    });
    const future = await createLink(uniqueIdentifier("later"));
    await apiJson(`/links/${future.identifier}`, {
      method: "PATCH",
      json: { expires_at: new Date(Date.now() + HOUR).toISOString() },
    });

    const expired = await send(`/ref/${past.identifier}`);
    expect(expired.status).toBe(302);
    expect(expired.headers.get("Set-Cookie")).toBeNull();
    expect(await hitsOf(past.id)).toHaveLength(0);

    const live = await send(`/ref/${future.identifier}`);
    expect(live.status).toBe(302);
    expect(await hitsOf(future.id)).toHaveLength(1);
  });

  it("?ref= of an expired link goes to the origin unchanged, with no hit", async () => {
    const link = await createLink(uniqueIdentifier("expired-param"));
    await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { expires_at: daysAgo(1) } });
    const response = await send(`/page?ref=${link.identifier}`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(await hitsOf(link.id)).toHaveLength(0);
  });
});

describe("REF_PARAM as a list", () => {
  const LIST = { REF_PARAM: "ref, via" };

  it("the first of them in the query names the link, and all are removed from the destination", async () => {
    const viaLink = await createLink(uniqueIdentifier("via"));
    const refLink = await createLink(uniqueIdentifier("ref"));
    const response = await send(`/shop?a=1&via=${viaLink.identifier}&b=2&ref=${refLink.identifier}`, {
      bindings: LIST,
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/shop?a=1&b=2");
    expect(await hitsOf(viaLink.id)).toHaveLength(1);
    expect(await hitsOf(refLink.id)).toHaveLength(0);
  });

  it("the second name alone is a referral too, and /ref/ links drop every name from the destination", async () => {
    const link = await createLink(uniqueIdentifier("via2"));
    const viaOnly = await send(`/p?via=${link.identifier}`, { bindings: LIST });
    expect(viaOnly.headers.get("Location")).toBe("/p");
    const click = await send(`/ref/${link.identifier}?next=/x&via=${link.identifier}&utm=1`, {
      bindings: LIST,
    });
    expect(click.headers.get("Location")).toBe("/x?utm=1");
    expect(await hitsOf(link.id)).toHaveLength(2);
  });

  it("a bad name in the list is a misconfiguration naming REF_PARAM", async () => {
    const answer = await apiJson("/health", { token: null, bindings: { REF_PARAM: "ref,b@d" } });
    expect(answer.status).toBe(500);
    expect(answer.body.error.message).toMatch(/REF_PARAM/);
  });
});
