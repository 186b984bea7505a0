/**
 * Property tests (fast-check) in the Workers runtime: whatever the input, no open redirect, no 500,
 * no thrown exception; whatever the sequence of visits, logins and confirmations, the referral
 * invariants hold.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { safeNext } from "../../src/lib/safe-next";
import { api } from "../support/api";
import { createLink } from "../support/db";
import { SITE, send, uniqueIdentifier } from "../support/worker";

const SITE_URL = new URL(SITE);
const ALLOWED = new Set(["app.example"]);
/** Property runs make hundreds of requests: allow for a busy 2-core machine. */
const SLOW = { timeout: 120_000 };
/** Runs per property; FC_RUNS raises it for a long local soak. */
const RUNS = Number(env.FC_RUNS ?? 0) || 200;

/** Strings a redirect parser finds interesting: slashes, backslashes, schemes, @, dots, controls. */
const nextLike = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        "/",
        "\\",
        "//",
        ".",
        "..",
        "@",
        ":",
        "%2f",
        "%5c",
        "%2e",
        "%09",
        "%00",
        "\t",
        "\n",
        " ",
        "https:",
        "http:",
        "javascript:",
        "evil.com",
        "shop.example",
        "app.example",
        "?",
        "#",
        "%",
        "\u3031",
        "\uff0f",
        "\u2215",
        "x",
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join("")),
);

function landsOnAllowedHost(location: string | null): boolean {
  if (location === null) return false;
  const target = new URL(location, SITE_URL);
  return target.host === SITE_URL.host || ALLOWED.has(target.host);
}

const config = parseConfig({ ALLOWED_REDIRECT_HOSTS: "app.example" });

describe("properties of redirects", () => {
  it("safeNext: for any string, null or a target on this host or an allowed host", () => {
    fc.assert(
      fc.property(nextLike, (next) => {
        const target = safeNext(next, SITE_URL, config.allowedRedirectHosts);
        return target === null || landsOnAllowedHost(target);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("/ref/ and ?ref=: for any next and any path, the Location stays on an allowed host", SLOW, async () => {
    const link = await createLink(uniqueIdentifier("prop"));
    await fc.assert(
      fc.asyncProperty(nextLike, nextLike, async (next, path) => {
        const viaLink = await send(`/ref/${link.identifier}?next=${encodeURIComponent(next)}`, {
          bindings: { ALLOWED_REDIRECT_HOSTS: "app.example" },
        });
        expect(viaLink.status).toBe(302);
        expect(landsOnAllowedHost(viaLink.headers.get("Location"))).toBe(true);

        let pathUrl: URL;
        try {
          pathUrl = new URL(`/${path}?ref=${link.identifier}`, SITE_URL);
        } catch {
          return; // not a URL a browser could send
        }
        if (pathUrl.host !== SITE_URL.host) return;
        const viaParam = await send(pathUrl.href);
        if (viaParam.status === 302) {
          expect(landsOnAllowedHost(viaParam.headers.get("Location"))).toBe(true);
        } else {
          expect(viaParam.status).toBe(200); // proxied to the origin
          await viaParam.body?.cancel();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** Header values a client can send: visible ASCII (workerd warns on every Latin-1 byte). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});

describe("properties of hostile input", () => {
  it("for any identifier, query, cookie and header value: never a 500, never a throw", SLOW, async () => {
    const link = await createLink(uniqueIdentifier("prop"));
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }),
        headerValue,
        headerValue,
        fc.constantFrom("GET", "HEAD", "POST", "OPTIONS"),
        fc.boolean(),
        async (identifier, query, cookie, userAgent, method, knownLink) => {
          const id = knownLink ? link.identifier : encodeURIComponent(identifier);
          const headers = {
            Cookie: `reflinks_rk=${cookie}; reflinks_uid=${cookie}`,
            "User-Agent": userAgent,
          };
          for (const path of [
            `/ref/${id}?${query}`,
            `/p?ref=${id}&${query}`,
            `/_reflinks/links/${id}?${query}`,
          ]) {
            let url: URL;
            try {
              url = new URL(path, SITE_URL);
            } catch {
              continue;
            }
            const response = await send(url.href, { method, headers });
            expect(response.status).toBeLessThan(500);
            if (response.headers.has("Location")) {
              expect(landsOnAllowedHost(response.headers.get("Location"))).toBe(true);
            }
            await response.body?.cancel();
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

type Operation =
  | { kind: "visit"; browser: number; link: number; viaParam: boolean }
  | { kind: "login"; browser: number; user: number; viaHeader: boolean }
  | { kind: "logout"; browser: number }
  | { kind: "confirm"; user: number; event: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant("visit" as const),
    browser: fc.nat(2),
    link: fc.nat(2),
    viaParam: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("login" as const),
    browser: fc.nat(2),
    user: fc.nat(3),
    viaHeader: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("logout" as const), browser: fc.nat(2) }),
  fc.record({ kind: fc.constant("confirm" as const), user: fc.nat(3), event: fc.nat(1) }),
);

interface HitRow {
  id: string;
  hit_user_id: string | null;
  confirmed_at: string | null;
}

describe("properties of the referral model", () => {
  it("for any sequence of visits, logins and confirmations, the invariants hold", SLOW, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 14 }), async (operations) => {
        run += 1;
        const prefix = `m${run}-${crypto.randomUUID().slice(0, 6)}`;
        // user 0 owns link 0, so self-referral is in play; link 2 has no owner.
        const users = [0, 1, 2, 3].map((n) => `${prefix}-u${n}`);
        const links = await Promise.all(
          [users[0], users[1], null].map((owner, n) =>
            api("/links", { method: "POST", json: { identifier: `${prefix}-l${n}`, user_id: owner } }).then(
              (response) => response.json<{ identifier: string }>(),
            ),
          ),
        );
        const jars = [new Map<string, string>(), new Map<string, string>(), new Map<string, string>()];
        const firstUserOf = new Map<string, string>();
        const credits = new Map<string, number>();

        for (const op of operations) {
          if (op.kind === "visit" || op.kind === "login" || op.kind === "logout") {
            const jar = jars[op.browser] as Map<string, string>;
            const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
            const headers = cookie ? { Cookie: cookie } : undefined;
            let response: Response;
            if (op.kind === "visit") {
              const identifier = links[op.link]?.identifier;
              response = await send(op.viaParam ? `/x?ref=${identifier}` : `/ref/${identifier}`, { headers });
            } else if (op.kind === "logout") {
              response = await send("/login-as?user=", { headers });
            } else if (op.viaHeader) {
              response = await send(`/login-as?user=${users[op.user]}`, { headers });
            } else {
              const anonymousId = jar.get("reflinks_rk") ?? "none";
              const reconcile = await api("/reconcile", {
                method: "POST",
                json: { user_id: users[op.user], anonymous_id: anonymousId },
              });
              expect(reconcile.status).toBe(200);
              await reconcile.body?.cancel();
              jar.delete("reflinks_rk"); // what the origin does after a reconcile
              continue;
            }
            expect(response.status).toBeLessThan(500);
            await response.body?.cancel();
            for (const line of response.headers.getSetCookie()) {
              const [pair = ""] = line.split(";");
              const at = pair.indexOf("=");
              if (/Max-Age=0/.test(line)) jar.delete(pair.slice(0, at));
              else jar.set(pair.slice(0, at), pair.slice(at + 1));
            }
          } else {
            const response = await api("/confirm", {
              method: "POST",
              json: { user_id: users[op.user], event: `e${op.event}` },
            });
            expect([200, 201, 404]).toContain(response.status);
            const key = `${users[op.user]}/e${op.event}`;
            if (response.status === 201) credits.set(key, (credits.get(key) ?? 0) + 1);
            if (response.status !== 404) {
              const body = await response.json<{ referral: { referrer_user_id: string | null } }>();
              expect(body.referral.referrer_user_id).not.toBe(users[op.user]); // no self-referral
            } else {
              await response.body?.cancel();
            }
          }

          // Invariant: once a hit has a user, it keeps that user.
          const { results: hits } = await env.DB.prepare(
            "SELECT h.id, h.hit_user_id, h.confirmed_at FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE l.identifier LIKE ?",
          )
            .bind(`${prefix}-%`)
            .all<HitRow>();
          for (const hit of hits) {
            const first = firstUserOf.get(hit.id);
            if (first !== undefined) expect(hit.hit_user_id).toBe(first);
            else if (hit.hit_user_id !== null) firstUserOf.set(hit.id, hit.hit_user_id);
          }
        }

        // Invariant: at most one credit per user and event, answered once as created.
        for (const count of credits.values()) expect(count).toBe(1);
        const { results: referrals } = await env.DB.prepare(
          "SELECT user_id, event, hit_id FROM confirmed_referrals WHERE user_id LIKE ?",
        )
          .bind(`${prefix}-%`)
          .all<{ user_id: string; event: string; hit_id: string }>();
        expect(new Set(referrals.map((r) => `${r.user_id}/${r.event}`)).size).toBe(referrals.length);
        expect(referrals.length).toBe(credits.size);
        // Invariant: confirmed_at only on credited hits, and every credited hit is marked.
        const { results: marked } = await env.DB.prepare(
          "SELECT h.id FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE l.identifier LIKE ? AND h.confirmed_at IS NOT NULL",
        )
          .bind(`${prefix}-%`)
          .all<{ id: string }>();
        expect(new Set(marked.map((hit) => hit.id))).toEqual(new Set(referrals.map((r) => r.hit_id)));
      }),
      { numRuns: Math.max(30, RUNS / 4) },
    );
  });
});
