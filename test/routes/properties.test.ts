/**
 * Property tests (fast-check) in the Workers runtime: whatever the input, no open redirect, no 500,
 * no thrown exception; whatever the sequence of visits, logins and confirmations, the referral
 * invariants hold; whatever the sequence of conversions, refunds, payouts, runs and fraud review
 * decisions, no held or rejected commission is paid, none twice, and every sum is exact.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { safeNext } from "../../src/lib/safe-next";
import { api, apiJson, daysAgo, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { convert, expectIntegerMoney, referredUser, reverse } from "../support/money";
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

type MoneyOperation =
  | { kind: "convert"; buyer: number; amount: number }
  | { kind: "reverse"; conversion: number; amount: number | null }
  | { kind: "pay"; referrer: number }
  | { kind: "run"; sameKey: boolean }
  | { kind: "hold"; referrer: number }
  | { kind: "release" | "reject"; referral: number }
  | { kind: "ban"; referrer: number };

const moneyOperation: fc.Arbitrary<MoneyOperation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("convert" as const),
      // A buyer of the three referred users, or of those a rule held (see "hold").
      buyer: fc.nat(7),
      amount: fc.integer({ min: 1, max: 100_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("reverse" as const),
      conversion: fc.nat(20),
      amount: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pay" as const), referrer: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("run" as const), sameKey: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("hold" as const), referrer: fc.nat(2) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("release" as const, "reject" as const),
      referral: fc.nat(5),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("ban" as const), referrer: fc.nat(2) }) },
);

interface MoneyRow {
  id: number;
  referrer_user_id: string | null;
  commission: number;
  status: string;
  payout_id: number | null;
  approve_at: string;
  referral_status: string;
  /** Whether refunds took back the whole payment. */
  wholly_reversed: number;
}

let moneyCurrencies = 0;

describe("properties of money: payouts, payout runs and fraud review", () => {
  it(
    "for any sequence of conversions, refunds, payouts, runs, holds, releases, rejections and bans: no held or rejected commission is paid, none twice, every sum is exact",
    SLOW,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(moneyOperation, { minLength: 1, maxLength: 14 }),
          fc.constantFrom(null, 500),
          async (operations, minimum) => {
            moneyCurrencies += 1;
            const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            // A currency of its own: a run pays everyone due in it.
            const currency = `S${letters[Math.floor(moneyCurrencies / 26) % 26]}${letters[moneyCurrencies % 26]}`;
            const bindings = minimum === null ? {} : { PAYOUT_MINIMUM: `${currency}:${minimum}` };
            const people = [];
            for (let n = 0; n < 3; n++) people.push(await referredUser());
            /** Who can buy: the three referred users, then each one a rule held. */
            const buyers = people.map((person) => person.user);
            /** The referrals a rule held, by id, in the order they were held. */
            const heldReferrals: number[] = [];
            const conversions: string[] = [];
            /** The payout each conversion was first seen in: it must never change. */
            const paidIn = new Map<number, number>();
            const runKeys: string[] = [];
            const runAnswers = new Map<string, string>();

            for (const op of operations) {
              if (op.kind === "hold") {
                // A user who came through the referrer's link from an ad: paid_ads holds the referral
                // (or, the referrer banned, it is rejected at once).
                const person = people[op.referrer];
                if (!person) continue;
                const user = uniqueUser("ad");
                await seedHit(person.link.id, {
                  hitUserId: user,
                  anonymousId: crypto.randomUUID(),
                  createdAt: daysAgo(1),
                  paidClick: "gclid",
                });
                const answer = await apiJson("/confirm", {
                  method: "POST",
                  json: { user_id: user },
                  bindings: { FRAUD_RULES: "paid_ads" },
                });
                expect(answer.status).toBe(201);
                expect(["held", "rejected"]).toContain(answer.body.referral.status);
                buyers.push(user);
                heldReferrals.push(answer.body.referral.id);
              } else if (op.kind === "release" || op.kind === "reject") {
                const id = heldReferrals[op.referral % Math.max(heldReferrals.length, 1)];
                if (id === undefined) continue;
                const answer = await apiJson(`/referrals/${id}/${op.kind}`, {
                  method: "POST",
                  json: op.kind === "reject" ? { reason: "property" } : undefined,
                });
                expect([200, 409]).toContain(answer.status);
              } else if (op.kind === "ban") {
                const answer = await apiJson(`/users/${people[op.referrer]?.referrer}/ban`, {
                  method: "POST",
                  json: {},
                });
                expect(answer.status).toBe(200);
              } else if (op.kind === "convert") {
                const externalId = `p-${crypto.randomUUID()}`;
                const answer = await convert({
                  user_id: buyers[op.buyer % buyers.length],
                  external_id: externalId,
                  amount: op.amount,
                  currency,
                });
                expect(answer.status).toBe(201);
                conversions.push(externalId);
              } else if (op.kind === "reverse") {
                const externalId = conversions[op.conversion % Math.max(conversions.length, 1)];
                if (externalId === undefined) continue;
                const answer = await reverse(externalId, {
                  reversal_id: `r-${crypto.randomUUID()}`,
                  ...(op.amount === null ? {} : { amount: op.amount }),
                });
                expect([201, 422]).toContain(answer.status); // 422: more than is left
              } else if (op.kind === "pay") {
                const answer = await apiJson("/payouts", {
                  method: "POST",
                  json: { referrer_user_id: people[op.referrer]?.referrer, currency },
                  headers: { "Idempotency-Key": crypto.randomUUID() },
                  bindings,
                });
                expect([201, 409]).toContain(answer.status);
                expectIntegerMoney(answer.body);
                if (answer.status === 201)
                  expect(answer.body.payout.amount).toBeGreaterThanOrEqual(minimum ?? 1);
              } else if (op.kind === "run") {
                const key =
                  op.sameKey && runKeys.length > 0 ? (runKeys.at(-1) as string) : crypto.randomUUID();
                const answer = await apiJson("/payout-runs", {
                  method: "POST",
                  json: { currency },
                  headers: { "Idempotency-Key": key },
                  bindings,
                });
                expect([200, 201, 409]).toContain(answer.status);
                expectIntegerMoney(answer.body);
                if (answer.status === 201) {
                  expect(runAnswers.has(key)).toBe(false);
                  runKeys.push(key);
                  runAnswers.set(key, JSON.stringify(answer.body.run.payouts));
                  const { run } = answer.body;
                  expect(run.amount).toBe(
                    run.payouts.reduce((sum: number, p: { amount: number }) => sum + p.amount, 0),
                  );
                  for (const payout of run.payouts)
                    expect(payout.amount).toBeGreaterThanOrEqual(minimum ?? 1);
                } else if (answer.status === 200) {
                  // The same key again: the same payouts, as they were made.
                  expect(JSON.stringify(answer.body.run.payouts)).toBe(runAnswers.get(key));
                }
              }

              const { results: paid } = await env.DB.prepare(
                "SELECT id, payout_id FROM conversions WHERE currency = ? AND payout_id IS NOT NULL",
              )
                .bind(currency)
                .all<{ id: number; payout_id: number }>();
              // Every conversion of the currency with its referral's status now.
              const { results: rows } = await env.DB.prepare(
                `SELECT c.id, c.referrer_user_id, c.commission, c.status, c.payout_id, c.approve_at,
                   r.status AS referral_status, c.reversed_amount = c.amount AS wholly_reversed
                 FROM conversions c JOIN confirmed_referrals r ON r.id = c.referral_id WHERE c.currency = ?`,
              )
                .bind(currency)
                .all<MoneyRow>();
              const byId = new Map(rows.map((row) => [row.id, row]));
              for (const row of paid) {
                const first = paidIn.get(row.id);
                if (first === undefined) {
                  paidIn.set(row.id, row.payout_id);
                  // Paid just now: it was payable, its referral ok (one decided later leaves it paid).
                  expect(byId.get(row.id)).toMatchObject({ status: "paid", referral_status: "ok" });
                } else expect(row.payout_id).toBe(first); // never paid again
              }
              for (const row of rows) {
                // A held or rejected commission is in no payout; a rejected one earns nothing.
                if (row.status === "held" || row.status === "rejected") expect(row.payout_id).toBeNull();
                if (row.status === "rejected") expect(row.commission).toBe(0);
                // An unpaid conversion follows its referral's status; one that refunds took back
                // wholly earns nothing, reversed or rejected by whichever came first.
                if (row.payout_id === null && row.referral_status !== "ok") {
                  if (row.wholly_reversed) {
                    expect(row.commission).toBe(0);
                    expect(["reversed", row.referral_status]).toContain(row.status);
                  } else expect(row.status).toBe(row.referral_status);
                }
              }
              // What /payouts/due answers is exactly the approved, unpaid commissions of ok referrals
              // less the clawbacks not yet settled: never a held or rejected one.
              const now = new Date().toISOString();
              const { results: clawbacks } = await env.DB.prepare(
                `SELECT c.referrer_user_id AS referrer_user_id, r.commission_delta AS delta FROM reversals r
                 JOIN conversions c ON c.id = r.conversion_id
                 WHERE c.currency = ? AND r.clawback = 1 AND r.payout_id IS NULL`,
              )
                .bind(currency)
                .all<{ referrer_user_id: string; delta: number }>();
              const expectedDue = new Map<string, number>();
              for (const row of rows) {
                const approved =
                  row.status === "approved" || (row.status === "pending" && row.approve_at <= now);
                if (row.referral_status !== "ok" || row.payout_id !== null || !approved) continue;
                if (row.referrer_user_id === null) continue;
                expectedDue.set(
                  row.referrer_user_id,
                  (expectedDue.get(row.referrer_user_id) ?? 0) + row.commission,
                );
              }
              for (const clawback of clawbacks) {
                expectedDue.set(
                  clawback.referrer_user_id,
                  (expectedDue.get(clawback.referrer_user_id) ?? 0) + clawback.delta,
                );
              }
              const due = await apiJson(`/payouts/due?currency=${currency}`);
              expect(due.status).toBe(200);
              expectIntegerMoney(due.body);
              expect(
                Object.fromEntries(
                  due.body.rows.map((row: { referrer_user_id: string; amount: number }) => [
                    row.referrer_user_id,
                    row.amount,
                  ]),
                ),
              ).toEqual(Object.fromEntries([...expectedDue].filter(([, amount]) => amount > 0)));
            }

            // Each payout is exactly the commissions paid in it (as they were then) and the clawbacks
            // it settled; over the currency, what payouts paid is what paid conversions earn, less the
            // clawbacks still to settle. All in integers.
            const payoutRows = await env.DB.prepare(
              `SELECT p.amount AS amount,
               (SELECT COALESCE(SUM(c.commission - COALESCE((SELECT SUM(r.commission_delta) FROM reversals r
                  WHERE r.conversion_id = c.id AND r.clawback = 1), 0)), 0) FROM conversions c WHERE c.payout_id = p.id)
               + (SELECT COALESCE(SUM(r.commission_delta), 0) FROM reversals r WHERE r.payout_id = p.id) AS lines
             FROM payouts p WHERE p.currency = ?`,
            )
              .bind(currency)
              .all<{ amount: number; lines: number }>();
            for (const payout of payoutRows.results) {
              expect(Number.isInteger(payout.amount)).toBe(true);
              expect(payout.amount).toBe(payout.lines);
            }
            const totals = await env.DB.prepare(
              `SELECT (SELECT COALESCE(SUM(amount), 0) FROM payouts WHERE currency = ?1) AS paid_out,
               (SELECT COALESCE(SUM(commission), 0) FROM conversions WHERE currency = ?1 AND status = 'paid') AS earned,
               (SELECT COALESCE(SUM(r.commission_delta), 0) FROM reversals r JOIN conversions c ON c.id = r.conversion_id
                 WHERE c.currency = ?1 AND r.clawback = 1 AND r.payout_id IS NULL) AS unsettled`,
            )
              .bind(currency)
              .first<{ paid_out: number; earned: number; unsettled: number }>();
            expect(totals?.paid_out).toBe((totals?.earned ?? 0) - (totals?.unsettled ?? 0));
            // At most one payout per referrer in each run.
            const { results: doubled } = await env.DB.prepare(
              "SELECT run_id FROM payouts WHERE currency = ? AND run_id IS NOT NULL GROUP BY run_id, referrer_user_id HAVING COUNT(*) > 1",
            )
              .bind(currency)
              .all();
            expect(doubled).toEqual([]);
          },
        ),
        { numRuns: Math.max(20, RUNS / 10) },
      );
    },
  );
});
