/**
 * Load over real HTTP (the worker's bundle in Miniflare, local D1): a thousand visitors click the same link at once,
 * and a hundred confirmations for one user race. Nothing may be lost and nothing credited twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_UA, type Stack, sqlString, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "load-link";
const VISITORS = 1000;

let stack: Stack;

beforeAll(async () => {
  // Miniflare serves the same bundle without wrangler dev's proxy, which drops a few of so many
  // simultaneous requests on 2 cores (see the harness).
  stack = await startStack({ links: [{ identifier: LINK, userId: "referrer" }], runtime: "miniflare" });
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs `task` for every item, at most `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: width }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

function api(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.workerUrl}/_reflinks${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
}

describe("under load", () => {
  const cookies: string[] = [];

  it(`${VISITORS} concurrent visitors each get a redirect and their own anonymous id`, async () => {
    const answers = await Promise.all(
      Array.from({ length: VISITORS }, () =>
        navigate(`${stack.workerUrl}/ref/${LINK}?next=/pricing`, {
          headers: { "User-Agent": BROWSER_UA },
          timeoutMs: 60_000,
        }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(302);
      const cookie = answer.headers.getSetCookie().find((line) => line.startsWith("reflinks_rk="));
      cookies.push(cookie?.split(/[=;]/)[1] ?? "");
    }
    expect(new Set(cookies).size).toBe(VISITORS);
  });

  it(`D1 holds ${VISITORS} distinct hits, exactly the visitors' ids`, async () => {
    const sql =
      "SELECT COUNT(*) AS hits, COUNT(DISTINCT h.id) AS ids, COUNT(DISTINCT h.anonymous_id) AS visitors " +
      `FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE l.identifier = ${sqlString(LINK)}`;
    // Hits are written after the redirects (waitUntil); wait for them, bounded.
    const deadline = Date.now() + 60_000;
    let row = (await stack.query<{ hits: number; ids: number; visitors: number }>(sql))[0];
    while ((row?.hits ?? 0) < VISITORS && Date.now() < deadline) {
      row = (await stack.query<{ hits: number; ids: number; visitors: number }>(sql))[0];
    }
    expect(row).toEqual({ hits: VISITORS, ids: VISITORS, visitors: VISITORS });
  });

  it("every hit is reconcilable: each visitor's login gives exactly its own hit a user", async () => {
    const updated = await inParallel(cookies, 50, async (anonymousId) => {
      const response = await api("/reconcile", {
        user_id: `visitor-${anonymousId}`,
        anonymous_id: anonymousId,
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { updated: number }).updated;
    });
    expect(updated.every((count) => count === 1)).toBe(true);
    const [row] = await stack.query(
      "SELECT COUNT(*) AS mine FROM referral_hits WHERE hit_user_id = 'visitor-' || anonymous_id",
    );
    expect(row).toEqual({ mine: VISITORS });
  });

  it("100 concurrent confirmations for one user credit the referrer once", async () => {
    const user = `visitor-${cookies[0]}`;
    const answers = await Promise.all(Array.from({ length: 100 }, () => api("/confirm", { user_id: user })));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as {
      created: boolean;
      referral: { id: number; referrer_user_id: string };
    }[];
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(99);
    expect(new Set(bodies.map((body) => body.referral.id)).size).toBe(1);
    expect(bodies[0]?.referral.referrer_user_id).toBe("referrer");
    const rows = await stack.query(
      `SELECT COUNT(*) AS credits FROM confirmed_referrals WHERE user_id = ${sqlString(user)}`,
    );
    expect(rows).toEqual([{ credits: 1 }]);
  });
});
