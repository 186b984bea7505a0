/**
 * The Django integration (integrations/django): its own Python tests, run with Debian's Django, and
 * its webhook view receiving deliveries signed by `standardwebhooks`, the library receivers use.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DJANGO_DIR,
  type DjangoSite,
  djangoPython,
  freePort,
  startDjangoSite,
} from "../fixtures/django-site.ts";

describe("reflinks_django", () => {
  it("passes its own tests against the real Django", () => {
    const run = spawnSync(djangoPython(), ["tests/runtests.py"], { cwd: DJANGO_DIR, encoding: "utf8" });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toMatch(/Ran \d+ tests/);
    expect(output).toMatch(/\nOK\n/);
    expect(run.status, output).toBe(0);
  });
});

describe("installing reflinks_django", () => {
  it("pip installs it from the repository's path, management command included", () => {
    const target = mkdtempSync(path.join(tmpdir(), "reflinks-pip-"));
    try {
      // Offline and without build isolation: the test needs no network (a site's own pip may fetch
      // setuptools for the build as usual).
      const args = [
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--target",
        target,
        DJANGO_DIR,
      ];
      const install = spawnSync(djangoPython(), args, { encoding: "utf8" });
      expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
      expect(
        existsSync(path.join(target, "reflinks_django", "management", "commands", "reflinks_report.py")),
      ).toBe(true);
      const load = spawnSync(
        djangoPython(),
        [
          "-c",
          "import reflinks_django.middleware, reflinks_django.client, reflinks_django.webhooks; print(reflinks_django.__file__)",
        ],
        {
          encoding: "utf8",
          cwd: tmpdir(),
          env: { ...process.env, PYTHONPATH: target, DJANGO_SETTINGS_MODULE: "" },
        },
      );
      expect(load.status, load.stderr).toBe(0);
      expect(load.stdout.trim()).toBe(path.join(target, "reflinks_django", "__init__.py"));
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});

describe("reflinks_django's webhook view, sent deliveries signed by standardwebhooks", () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const webhook = new Webhook(secret);
  let site: DjangoSite;

  beforeAll(async () => {
    site = await startDjangoSite(await freePort(), { REFLINKS_WEBHOOK_SECRET: secret });
  });
  afterAll(() => site?.stop());

  const deliver = (id: string, body: string, at: Date, signature = webhook.sign(id, at, body)) =>
    fetch(`${site.url}/reflinks/webhook/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
    });
  const received = async () =>
    (await (await fetch(`${site.url}/received`)).json()) as Array<Record<string, unknown>>;

  it("accepts a signed delivery and sends the signal with its type, data and id", async () => {
    const body = JSON.stringify({
      type: "conversion.created",
      timestamp: new Date().toISOString(),
      data: { external_id: "in_1", amount: 800, currency: "EUR", user_id: "böb" },
    });
    const response = await deliver("msg_ok", body, new Date());
    expect(response.status).toBe(204);
    expect(await received()).toContainEqual({
      type: "conversion.created",
      data: { external_id: "in_1", amount: 800, currency: "EUR", user_id: "böb" },
      webhook_id: "msg_ok",
    });
  });

  it("refuses a tampered body, another secret's signature, and a stale timestamp", async () => {
    const body = JSON.stringify({ type: "payout.created", timestamp: new Date().toISOString(), data: {} });
    const now = new Date();
    const tampered = await deliver(
      "msg_bad",
      body.replace("payout", "paid"),
      now,
      webhook.sign("msg_bad", now, body),
    );
    const other = new Webhook(`whsec_${randomBytes(32).toString("base64")}`).sign("msg_bad", now, body);
    const foreign = await deliver("msg_bad", body, now, other);
    const stale = await deliver("msg_bad", body, new Date(Date.now() - 6 * 60 * 1000));
    expect([tampered.status, foreign.status, stale.status]).toEqual([400, 400, 400]);
    expect((await received()).map((event) => event.webhook_id)).not.toContain("msg_bad");
  });
});
