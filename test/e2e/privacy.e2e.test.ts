/**
 * Click quality and privacy end to end over real HTTP (`wrangler dev`, local D1, the demo origin):
 * CONSENT (a consent cookie), DEDUPE_SECONDS, RETENTION_DAYS (the scheduled job through
 * `/__scheduled`), and a user's export and erasure through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_UA, type Row, type Stack, sqlString, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "privacy-link";
const CONSENTED = "cmp=yes";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    links: [{ identifier: LINK, userId: "alice" }],
    vars: { CONSENT: "cookie:cmp=yes", DEDUPE_SECONDS: "3600", RETENTION_DAYS: "30" },
    testScheduled: true,
  });
});

afterAll(async () => {
  await stack?.stop();
});

function click(path: string, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = { "User-Agent": BROWSER_UA, Referer: "https://news.example/" };
  if (cookie) headers.Cookie = cookie;
  return navigate(`${stack.workerUrl}${path}`, { headers });
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.workerUrl}/_reflinks${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${stack.apiToken}`, ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });
}

/** Rows of `sql`, asked again (hits are written after the redirect) until `ready` accepts them. */
async function rowsWhen<T extends Row>(sql: string, ready: (rows: T[]) => boolean): Promise<T[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await stack.query<T>(sql);
    if (ready(rows) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface HitRow extends Row {
  anonymous_id: string | null;
  ip: string | null;
  user_agent: string | null;
  http_referer: string | null;
  consented: number;
  duplicate: number;
}

const HITS =
  "SELECT anonymous_id, ip, user_agent, http_referer, consented, duplicate FROM referral_hits " +
  `WHERE link_id = (SELECT id FROM referral_links WHERE identifier = ${sqlString(LINK)}) ORDER BY created_at, rowid`;

describe.sequential("CONSENT, DEDUPE_SECONDS and RETENTION_DAYS, end to end", () => {
  it("a click without the consent cookie is redirected and counted, with no cookie and nothing personal", async () => {
    const response = await click(`/ref/${LINK}?next=/pricing`);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing");
    expect(response.headers.getSetCookie()).toEqual([]);
    const hits = await rowsWhen<HitRow>(HITS, (rows) => rows.length >= 1);
    expect(hits).toEqual([
      { anonymous_id: null, ip: null, user_agent: null, http_referer: null, consented: 0, duplicate: 0 },
    ]);
  });

  it("with the consent cookie: the visitor cookie is set, and a second click is a duplicate", async () => {
    const first = await click(`/?ref=${LINK}`, CONSENTED);
    expect(first.status).toBe(302);
    const cookie = first.headers.getSetCookie().find((line) => line.startsWith("reflinks_rk="));
    expect(cookie).toBeDefined();
    const visitor = (cookie ?? "").split(";")[0] ?? "";
    const again = await click(`/ref/${LINK}`, `${CONSENTED}; ${visitor}`);
    expect(again.status).toBe(302);
    const hits = await rowsWhen<HitRow>(HITS, (rows) => rows.length >= 3);
    expect(hits.slice(1)).toEqual([
      expect.objectContaining({
        anonymous_id: visitor.split("=")[1],
        consented: 1,
        duplicate: 0,
        user_agent: BROWSER_UA,
      }),
      expect.objectContaining({ anonymous_id: visitor.split("=")[1], consented: 1, duplicate: 1 }),
    ]);
    const report = await api("/reports/links");
    const { rows } = (await report.json()) as { rows: { identifier: string }[] };
    expect(rows.find((row) => row.identifier === LINK)).toMatchObject({
      hits: 3,
      unique_hits: 2,
      visitors: 1,
    });
  });

  it("the scheduled job erases ip, user agent and referer of hits older than RETENTION_DAYS", async () => {
    const old = new Date(Date.now() - 31 * 86_400_000).toISOString();
    await stack.query(
      "INSERT INTO referral_hits (id, link_id, anonymous_id, ip, user_agent, http_referer, created_at, updated_at) " +
        `SELECT '00000000-0000-4000-8000-0000000000e2', id, NULL, '203.0.113.99', 'Old UA', 'https://old.example/', ${sqlString(old)}, ${sqlString(old)} ` +
        `FROM referral_links WHERE identifier = ${sqlString(LINK)}`,
    );
    const run = await fetch(`${stack.workerUrl}/__scheduled?cron=*+*+*+*+*`, {
      signal: AbortSignal.timeout(15_000),
    });
    expect(run.status).toBe(200);
    await run.arrayBuffer();
    const [row] = await rowsWhen<Row>(
      "SELECT ip, user_agent, http_referer FROM referral_hits WHERE id = '00000000-0000-4000-8000-0000000000e2'",
      (rows) => rows[0]?.ip === null,
    );
    expect(row).toEqual({ ip: null, user_agent: null, http_referer: null });
    // Recent hits keep theirs.
    const recent = await stack.query<HitRow>(HITS);
    expect(recent.filter((hit) => hit.user_agent === BROWSER_UA)).toHaveLength(2);
  });

  it("a user's export and erasure through the API", async () => {
    const at = new Date().toISOString();
    await stack.query(
      "INSERT INTO referral_hits (id, link_id, hit_user_id, ip, user_agent, http_referer, created_at, updated_at) " +
        `SELECT '00000000-0000-4000-8000-0000000000e3', id, 'erin', '198.51.100.7', 'Erin UA', '', ${sqlString(at)}, ${sqlString(at)} ` +
        `FROM referral_links WHERE identifier = ${sqlString(LINK)}`,
    );
    const exported = await api("/users/erin/export");
    expect(exported.status).toBe(200);
    const body = (await exported.json()) as { hits: { ip: string | null }[] };
    expect(body.hits).toEqual([expect.objectContaining({ ip: "198.51.100.7", link: LINK })]);
    const erased = await api("/users/erin", { method: "DELETE" });
    expect(await erased.json()).toEqual({ hits: 1 });
    const again = await api("/users/erin", { method: "DELETE" });
    expect(await again.json()).toEqual({ hits: 0 });
    const after = await api("/users/erin/export");
    expect(((await after.json()) as { hits: unknown[] }).hits).toEqual([
      expect.objectContaining({ ip: null, user_agent: null, http_referer: null, hit_user_id: "erin" }),
    ]);
  });
});
