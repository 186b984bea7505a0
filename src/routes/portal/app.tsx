/**
 * The referrer's page at `PORTAL_PATH` (docs/referrer-page.md), loaded by the front only when that
 * path is asked for. The user is the one the signed identity cookie names (the origin reported the
 * login), or the one a sign-in link opened a page session for. Every answer is private and never
 * framed; the one form (Get your link) must come from this origin and carry a token made for
 * this user.
 */
import type { Context } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { Hono } from "hono/tiny";
import type { HonoEnv } from "../../app-env";
import type { Config } from "../../config";
import { database } from "../../db/client";
import { insertOwnLink, listLinks } from "../../db/queries/links";
import { findPayoutMethod, setPayoutMethod } from "../../db/queries/payout-methods";
import { usePortalLink } from "../../db/queries/portal";
import { forgetLink } from "../../hits/link-cache";
import type { Clock } from "../../lib/clock";
import { systemClock } from "../../lib/clock";
import { verifiedUserId } from "../../lib/identity";
import { errorMessage, log } from "../../lib/log";
import { randomIdentifier } from "../../lib/random-identifier";
import { requestIdOf } from "../../lib/request-id";
import { sendWrittenEvents } from "../../webhooks/first-attempt";
import { createLinkBody, payoutMethodBody } from "../api/schemas";
import { checkFormToken, formToken } from "../dashboard/form-token";
import { hashSource, SCRIPT, STYLE } from "./assets";
import { commissionsCsv } from "./csv";
import { commissionLines, portalView } from "./data";
import { MessagePage, type PayoutMethodForm, PortalPage, type PortalPageProps } from "./page";
import { portalSecret, SIGN_IN_SEGMENT, sessionCookie, sessionUser, tokenHash } from "./session";

type C = Context<HonoEnv>;

const GENERATED_IDENTIFIER_ATTEMPTS = 5;
const sameOrigin = csrf();

/** Where the page sends a visitor who is not signed in: `PORTAL_LOGIN_URL?next=PORTAL_PATH`. */
export function loginUrl(config: Config, page: string): string {
  const separator = config.portalLoginUrl.includes("?") ? "&" : "?";
  return `${config.portalLoginUrl}${separator}next=${encodeURIComponent(page)}`;
}

/** A form token is bound to the form's path and to the user it was made for. */
const tokenSubject = (action: string, userId: string) => `portal ${action} ${JSON.stringify(userId)}`;

export function createPortalApp(config: Config, clock: Clock = systemClock) {
  const page = config.portalPath ?? "";
  const paths = {
    page,
    createLink: `${page}/links`,
    csv: `${page}/commissions.csv`,
    payoutMethod: `${page}/payout-method`,
  };
  const app = new Hono<HonoEnv>();

  app.use(async function portalHeaders(c, next) {
    c.set("config", config);
    c.set("db", database(c.env.DB));
    await next();
    const headers = c.res.headers;
    headers.set("Cache-Control", "private, no-store");
    headers.set(
      "Content-Security-Policy",
      `default-src 'none'; style-src ${await hashSource(STYLE)}; script-src ${await hashSource(SCRIPT)}; ` +
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    headers.set("X-Frame-Options", "DENY");
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("Referrer-Policy", "no-referrer");
  });
  app.use(sendWrittenEvents);

  /** The signed-in user: the identity cookie's, else the page session's. */
  async function userOf(c: C): Promise<string | null> {
    const now = clock().getTime();
    return (await verifiedUserId(c.req.raw, config, now)) ?? (await sessionUser(c.req.raw, config, now));
  }

  const message = (c: C, status: 403 | 404 | 405 | 415, code: string, title: string, text: string) =>
    c.html(
      `<!doctype html>${<MessagePage title={title} message={text} code={code} back={{ href: page, text: "Your referral page" }} />}`,
      status,
    );

  async function render(
    c: C,
    userId: string,
    flash: PortalPageProps["flash"],
    status: 200 | 403 | 409 | 422 = 200,
    chosen = "",
    methodValues: PayoutMethodForm["values"] | null = null,
  ) {
    const origin = new URL(c.req.url).origin;
    const [view, current] = await Promise.all([
      portalView(c.var.db, userId, (id) => `${origin}${config.refPath}${id}`, clock()),
      findPayoutMethod(c.var.db, userId),
    ]);
    const payoutMethod: PayoutMethodForm = {
      token: await formToken(portalSecret(config) ?? "", tokenSubject(paths.payoutMethod, userId)),
      current,
      values: methodValues ?? {
        type: current?.type ?? "paypal",
        email: current?.email ?? "",
        // Never written back into the page: the summary shows it masked; typing it anew changes it.
        iban: "",
        account_name: current?.account_name ?? "",
      },
    };
    let getLink: PortalPageProps["getLink"] = null;
    if (config.portalLinks > 0) {
      getLink =
        view.links.length >= config.portalLinks
          ? { full: view.links.length }
          : {
              token: await formToken(portalSecret(config) ?? "", tokenSubject(paths.createLink, userId)),
              chosen,
            };
    }
    const html = (
      <PortalPage
        view={view}
        userId={userId}
        paths={paths}
        flash={flash}
        getLink={getLink}
        payoutMethod={payoutMethod}
      />
    );
    return c.html(`<!doctype html>${html}`, status);
  }

  app.get(page, async (c) => {
    const userId = await userOf(c);
    if (userId === null) return c.redirect(loginUrl(config, page), 302);
    const created = c.req.query("created");
    const flash =
      created && /^[A-Za-z0-9_-]{1,50}$/.test(created)
        ? { kind: "done" as const, text: `Your link "${created}" is ready: share it.` }
        : c.req.query("saved") === "payout-method"
          ? { kind: "done" as const, text: "Saved: your payouts go there from now on." }
          : null;
    return render(c, userId, flash);
  });

  app.get(paths.csv, async (c) => {
    const userId = await userOf(c);
    if (userId === null) return c.redirect(loginUrl(config, page), 302);
    const csv = commissionsCsv(await commissionLines(c.var.db, userId, clock()));
    return c.body(csv, 200, {
      "Content-Type": "text/csv; charset=utf-8; header=present",
      "Content-Disposition": 'attachment; filename="commissions.csv"',
    });
  });

  /**
   * A POST of one of the page's forms, or the answer that refuses it: signed in, from this origin,
   * urlencoded, with the token of this very form made for this very user.
   */
  async function formPost(
    c: C,
    action: string,
  ): Promise<Response | { userId: string; form: URLSearchParams }> {
    if (c.req.method !== "POST") {
      c.header("Allow", "POST");
      return message(c, 405, "method_not_allowed", "Not a page", "This address takes the page's form only.");
    }
    const userId = await userOf(c);
    if (userId === null) {
      return message(
        c,
        403,
        "not_signed_in",
        "Not signed in",
        "Sign in to the site, then open your referral page again.",
      );
    }
    try {
      await sameOrigin(c, async () => {});
    } catch (error) {
      if (error instanceof HTTPException && error.status === 403) {
        return render(
          c,
          userId,
          { kind: "failed", text: "This form was not sent from this site: nothing was done." },
          403,
        );
      }
      throw error;
    }
    const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
      return message(c, 415, "unsupported_form", "Refused", "Send the page's form as it is.");
    }
    const form = new URLSearchParams(await c.req.text());
    const problem = await checkFormToken(
      portalSecret(config) ?? "",
      tokenSubject(action, userId),
      form.get("form_token") ?? undefined,
      clock().getTime(),
    );
    if (problem) {
      const text =
        problem === "expired"
          ? "This form is too old: it was reloaded below, send it again."
          : "This form was not made for you on this page: nothing was done. Use the form below.";
      return render(c, userId, { kind: "failed", text }, 403);
    }
    return { userId, form };
  }

  app.all(paths.createLink, async (c) => {
    const posted = await formPost(c, paths.createLink);
    if (posted instanceof Response) return posted;
    const { userId, form } = posted;
    const chosen = form.get("identifier")?.trim() ?? "";
    const owned = await listLinks(c.var.db, { userId, limit: config.portalLinks + 1 });
    if (owned.length >= config.portalLinks) {
      return render(
        c,
        userId,
        { kind: "failed", text: "You already have as many links as you can create here." },
        409,
      );
    }
    const checked = createLinkBody.safeParse({ identifier: chosen === "" ? undefined : chosen });
    if (!checked.success) {
      return render(
        c,
        userId,
        { kind: "failed", text: `"${chosen}" cannot be a link: use 1 to 50 letters, digits, - and _.` },
        422,
        chosen,
      );
    }
    const urlPrefix = `${new URL(c.req.url).origin}${config.refPath}`;
    const attempt = (identifier: string) =>
      insertOwnLink(
        c.var.db,
        c.var.events,
        { identifier, userId },
        config.portalLinks,
        urlPrefix,
        clock().toISOString(),
      );
    let outcome = await attempt(checked.data.identifier ?? randomIdentifier());
    if (checked.data.identifier === undefined) {
      for (
        let tries = 1;
        "refused" in outcome && outcome.refused === "taken" && tries < GENERATED_IDENTIFIER_ATTEMPTS;
        tries++
      ) {
        outcome = await attempt(randomIdentifier());
      }
    }
    if ("refused" in outcome) {
      if (outcome.refused === "limit") {
        return render(
          c,
          userId,
          { kind: "failed", text: "You already have as many links as you can create here." },
          409,
        );
      }
      if (checked.data.identifier === undefined) throw new Error("could not generate a free identifier");
      return render(
        c,
        userId,
        { kind: "failed", text: `"${chosen}" is taken: choose another name.` },
        409,
        chosen,
      );
    }
    // This isolate may remember the identifier as unknown.
    forgetLink(c.env.DB, outcome.created.identifier);
    return c.redirect(`${page}?created=${encodeURIComponent(outcome.created.identifier)}`, 303);
  });

  app.all(paths.payoutMethod, async (c) => {
    const posted = await formPost(c, paths.payoutMethod);
    if (posted instanceof Response) return posted;
    const { userId, form } = posted;
    const values = {
      type: form.get("type") ?? "",
      email: (form.get("email") ?? "").trim(),
      iban: (form.get("iban") ?? "").trim(),
      account_name: (form.get("account_name") ?? "").trim(),
    };
    // The form sends every field; the API's rule takes only those of the chosen type.
    const used =
      { paypal: ["email", "account_name"], wise: ["email", "account_name"], iban: ["iban", "account_name"] }[
        values.type as "paypal"
      ] ?? [];
    const body: Record<string, string> = { type: values.type };
    for (const field of used) {
      const value = values[field as keyof typeof values];
      if (value !== "") body[field] = value;
    }
    const checked = payoutMethodBody.safeParse(body);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const field = String(issue?.path[0] ?? "type");
      const names: Record<string, string> = {
        type: "The way to be paid",
        email: "The e-mail address",
        iban: "The IBAN",
        account_name: "The account holder's name",
      };
      const text = `${names[field] ?? field} ${issue?.message ?? "is not valid"}: nothing was saved.`;
      return render(c, userId, { kind: "failed", text }, 422, "", values);
    }
    await setPayoutMethod(
      c.var.db,
      userId,
      {
        type: checked.data.type,
        email: checked.data.email ?? null,
        iban: checked.data.iban ?? null,
        account_name: checked.data.account_name ?? null,
      },
      clock().toISOString(),
    );
    return c.redirect(`${page}?saved=payout-method#payout-method`, 303);
  });

  app.get(`${page}${SIGN_IN_SEGMENT}`, async (c) => {
    const token = c.req.query("token") ?? "";
    const used = /^[A-Za-z0-9_-]{43}$/.test(token)
      ? await usePortalLink(c.var.db, await tokenHash(token), clock())
      : ({ ok: false, why: "unknown" } as const);
    if (!used.ok) {
      const text = {
        used: "This sign-in link was already used: each works once. Ask the site for a new one.",
        expired: "This sign-in link has expired: they last 15 minutes. Ask the site for a new one.",
        unknown: "This is not a valid sign-in link. Ask the site for a new one.",
      }[used.why];
      return message(c, 403, `sign_in_link_${used.why}`, "Sign-in link refused", text);
    }
    const cookie = await sessionCookie(used.userId, config, new URL(c.req.url), clock().getTime());
    if (cookie) c.header("Set-Cookie", cookie);
    return c.redirect(page, 303);
  });

  app.all("*", (c) => message(c, 404, "not_found", "Not found", "There is no such page."));

  app.onError((error, c) => {
    log("error", "portal_unhandled_error", {
      request_id: requestIdOf(c.req.raw),
      error: errorMessage(error),
    });
    return c.html(
      `<!doctype html>${<MessagePage title="Error" message={`Something went wrong. Request id: ${requestIdOf(c.req.raw)}`} code="internal_error" />}`,
      500,
    );
  });

  return app;
}
