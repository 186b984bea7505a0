/**
 * A Django site moving from django-reflinks, end to end over real HTTP: Debian's Django serving the
 * test site of integrations/django (with reflinks_django's middleware and client) behind the worker
 * under `wrangler dev`. The site's old data is imported with `npm run import:django` (its users are
 * the site's own); then a visitor clicks a link, signs up, buys, a visitor who clicked before the move
 * signs up, and the management command prints the report through the worker. The site's webhook
 * view receives the worker's real referral.confirmed delivery.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DJANGO_DIR,
  type DjangoSite,
  djangoPython,
  freePort,
  startDjangoSite,
} from "../fixtures/django-site.ts";
import { BROWSER_UA, type Stack, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "friend";
const REFERRER = "99";
/** django-reflinks' cookie: with COOKIE_NAME set to it, the worker reads the cookies it left behind. */
const COOKIE = "django_reflinks__rk";
/** An anonymous hit in the dump: the old cookie of that visitor holds its id. */
const OLD_HIT = "00000000-0000-4000-8000-000000000001";

let stack: Stack;
let site: DjangoSite;
let dumpDir: string;
let jar = new Map<string, string>();

/** Runs a command to completion: its exit code and output. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  const port = await freePort();
  stack = await startStack({
    originUrl: `http://127.0.0.1:${port}`,
    links: [{ identifier: LINK, userId: REFERRER }],
    vars: { COOKIE_NAME: COOKIE },
  });
  // The site subscribes to referral.confirmed; the secret the worker answers goes in its settings.
  const created = await fetch(`${stack.workerUrl}/_reflinks/webhooks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      url: `http://127.0.0.1:${port}/reflinks/webhook/`,
      events: ["referral.confirmed"],
    }),
  });
  expect(created.status).toBe(201);
  const { secret } = (await created.json()) as { secret: string };
  site = await startDjangoSite(port, {
    REFLINKS_URL: stack.workerUrl,
    REFLINKS_API_TOKEN: stack.apiToken,
    REFLINKS_WEBHOOK_SECRET: secret,
  });
  dumpDir = await mkdtemp(path.join(tmpdir(), "reflinks-django-dump-"));
});

afterAll(async () => {
  await site?.stop();
  await stack?.stop();
  if (dumpDir) await rm(dumpDir, { recursive: true, force: true });
});

/** A browser through the worker: keeps cookies, never follows redirects. */
async function browse(pathname: string, init: { method?: string; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "User-Agent": BROWSER_UA };
  if (jar.size > 0) headers.Cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  let body: string | undefined;
  if (init.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  }
  const response = await navigate(`${stack.workerUrl}${pathname}`, {
    method: init.method ?? "GET",
    headers,
    body,
  });
  for (const line of response.headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const at = pair.indexOf("=");
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (/Max-Age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line) || value === "" || value === '""') {
      jar.delete(name);
    } else jar.set(name, value);
  }
  return response;
}

describe("a Django site behind the worker, with reflinks_django", () => {
  it("1. imports the django-reflinks data the site had", async () => {
    const made = await run(djangoPython(), ["test/fixtures/django-reflinks/make_dump.py", dumpDir]);
    expect(made.code, made.out).toBe(0);
    const imported = await stack.exclusive(() =>
      run(process.execPath, [
        "scripts/import-django.mjs",
        path.join(dumpDir, "dump.json"),
        "--persist-to",
        stack.persistDir,
      ]),
    );
    expect(imported.code, imported.out).toBe(0);
    expect(imported.out).toMatch(/hits\s+7 in the dump,\s+7 new/);
    // The users are the site's own: the Django site has them already.
    const dump = JSON.parse(await readFile(path.join(dumpDir, "dump.json"), "utf8")) as Array<{
      model: string;
    }>;
    await writeFile(
      path.join(dumpDir, "users.json"),
      JSON.stringify(dump.filter((r) => r.model === "auth.user")),
    );
    const loaded = await run(
      djangoPython(),
      ["tests/manage.py", "loaddata", path.join(dumpDir, "users.json")],
      {
        cwd: DJANGO_DIR,
        env: site.env,
      },
    );
    expect(loaded.code, loaded.out).toBe(0);
  });

  it("2. a visitor clicks a link through the worker and gets the anonymous cookie", async () => {
    const response = await browse(`/ref/${LINK}`);
    expect(response.status).toBe(302);
    expect(jar.get(COOKIE), JSON.stringify(response.headers.getSetCookie())).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("3. signs up on Django: the middleware's signed header signs the browser in at the worker", async () => {
    const response = await browse("/signup", {
      method: "POST",
      form: { username: "newbie", password: "pw" },
    });
    expect(response.status).toBe(302);
    expect(response.headers.has("reflinks-user")).toBe(false); // the worker removed it
    expect(jar.has("sessionid")).toBe(true);
    expect(jar.has(COOKIE)).toBe(false);
    expect(jar.has("reflinks_uid")).toBe(true);
    const [hit] = await stack.query(
      `SELECT h.hit_user_id FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE l.identifier = '${LINK}'`,
    );
    // A new account of the site: after the users it had (1-5, loaded from the dump).
    expect(Number(hit?.hit_user_id)).toBeGreaterThan(5);
    expect(await (await browse("/")).text()).toBe("Hello, newbie");
  });

  it("4. buys: the Django client confirms the referral and records the conversion, exactly once", async () => {
    const first = await browse("/purchase", { method: "POST", form: { order: "order-1" } });
    expect(first.status).toBe(200);
    const bought = (await first.json()) as {
      confirmed: { created: boolean; referral: { link: string; referrer_user_id: string; id: number } };
      conversion: { created: boolean; conversion: { amount: number; currency: string; external_id: string } };
    };
    expect(bought.confirmed.created).toBe(true);
    expect(bought.confirmed.referral).toMatchObject({ link: LINK, referrer_user_id: REFERRER });
    expect(bought.conversion.created).toBe(true);
    expect(bought.conversion.conversion).toMatchObject({
      amount: 800,
      currency: "USD",
      external_id: "order-1",
    });

    const again = (await (
      await browse("/purchase", { method: "POST", form: { order: "order-1" } })
    ).json()) as typeof bought;
    expect(again.confirmed.created).toBe(false);
    expect(again.confirmed.referral.id).toBe(bought.confirmed.referral.id);
    expect(again.conversion.created).toBe(false);

    const account = (await (await browse("/account")).json()) as { referred_by: { link: string } | null };
    expect(account.referred_by?.link).toBe(LINK);
  });

  it("4b. the site's webhook view receives the referral.confirmed delivery, verified, as a signal", async () => {
    const [referral] = await stack.query(
      "SELECT id FROM confirmed_referrals WHERE event = 'signup' AND link_id = (SELECT id FROM referral_links WHERE identifier = 'friend')",
    );
    const deadline = Date.now() + 60_000;
    let received: Array<{ type: string; data: { id: number; link: string }; webhook_id: string }> = [];
    // The first attempt is made right after the confirming response: wait for it to land.
    while (Date.now() < deadline) {
      received = (await (await fetch(`${site.url}/received`)).json()) as typeof received;
      if (received.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ type: "referral.confirmed", data: { id: referral?.id, link: LINK } });
    expect(received[0]?.webhook_id).toBeTruthy();
  });

  it("5. logs out: the empty signed value makes the worker forget the browser", async () => {
    const response = await browse("/logout", { method: "POST" });
    expect(response.status).toBe(302);
    expect(jar.has("reflinks_uid")).toBe(false);
    expect(await (await browse("/")).text()).toBe("Hello, nobody");
  });

  it("6. a visitor who clicked before the move signs up: the worker reads the old cookie and gives them the old hit", async () => {
    jar = new Map([[COOKIE, OLD_HIT]]);
    const response = await browse("/signup", {
      method: "POST",
      form: { username: "from-before", password: "pw" },
    });
    expect(response.status).toBe(302);
    expect(jar.has(COOKIE)).toBe(false);
    const [user] = await stack.query(
      "SELECT user_id FROM reflinks_users WHERE user_id NOT IN ('1', '2', '3', '4', '5') ORDER BY first_seen_at DESC LIMIT 1",
    );
    const [hit] = await stack.query(
      `SELECT hit_user_id, authenticated FROM referral_hits WHERE id = '${OLD_HIT}'`,
    );
    expect(hit).toEqual({ hit_user_id: user?.user_id, authenticated: 0 });
  });

  it("7. manage.py reflinks_report shows the numbers the site had before, plus the new ones", async () => {
    const report = await run(djangoPython(), ["tests/manage.py", "reflinks_report"], {
      cwd: DJANGO_DIR,
      env: { ...process.env, REFLINKS_URL: stack.workerUrl, REFLINKS_API_TOKEN: stack.apiToken },
    });
    expect(report.code, report.out).toBe(0);
    const lines = report.out.trim().split("\n");
    const header = lines[0]?.split(/\s+/) ?? [];
    const rows = new Map(
      lines.slice(1).map((line) => {
        const cells = line.trim().split(/\s+/);
        return [cells[0], cells] as const;
      }),
    );
    const before = JSON.parse(await readFile(path.join(dumpDir, "report.json"), "utf8")) as Record<
      string,
      { hits: number; confirmed: number }
    >;
    const cell = (identifier: string, column: string) => {
      const cells = rows.get(identifier) ?? [];
      // A link without an owner has an empty user_id cell, which splitting drops.
      const offset = cells.length < header.length ? 1 : 0;
      return cells[header.indexOf(column) - offset];
    };
    for (const [identifier, numbers] of Object.entries(before)) {
      expect(cell(identifier, "hits"), identifier).toBe(String(numbers.hits));
      expect(cell(identifier, "confirmed"), identifier).toBe(String(numbers.confirmed));
    }
    expect(cell(LINK, "hits")).toBe("1");
    expect(cell(LINK, "confirmed")).toBe("1");
    // The old hit now has its user: still four visitors.
    expect(cell("alice-1", "visitors")).toBe("4");
  });
});
