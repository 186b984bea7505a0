/** Helpers for the referrer's page tests (docs/referrer-page.md). */
import { select } from "./dashboard";
import { identityCookieFor } from "./privacy";
import { type SendOptions, SITE, send } from "./worker";

export const PORTAL = "/_reflinks/me";

/** `GET PORTAL_PATH{path}` as `userId` (the identity cookie), or signed out with `null`. */
export async function openPortal(userId: string | null, path = "", options: SendOptions = {}) {
  const headers = new Headers(options.headers);
  if (userId !== null) headers.set("Cookie", await identityCookieFor(userId));
  return send(`${PORTAL}${path}`, { ...options, headers });
}

/** The "Get your link" form's token on the page `html`; "" when the page has no form. */
export async function formTokenOf(html: string): Promise<string> {
  const [input] = await select(html, '#get-link form input[name="form_token"]');
  return input?.attributes.value ?? "";
}

/** The payout-method form's token on the page `html`. */
export async function methodTokenOf(html: string): Promise<string> {
  const [input] = await select(html, 'form.method input[name="form_token"]');
  return input?.attributes.value ?? "";
}

interface PostOptions {
  origin?: string | null;
  cookie?: string;
  bindings?: SendOptions["bindings"];
}

/** Posts the "Get your link" form as `userId`, from the site's own origin unless told otherwise. */
export function postGetLink(
  userId: string | null,
  fields: Record<string, string>,
  options: PostOptions = {},
) {
  return postPortalForm("/links", userId, fields, options);
}

/** Posts the payout-method form as `userId`, from the site's own origin unless told otherwise. */
export function postPayoutMethod(
  userId: string | null,
  fields: Record<string, string>,
  options: PostOptions = {},
) {
  return postPortalForm("/payout-method", userId, fields, options);
}

async function postPortalForm(
  path: string,
  userId: string | null,
  fields: Record<string, string>,
  options: PostOptions,
) {
  const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded" });
  if (options.origin !== null) headers.set("Origin", options.origin ?? SITE);
  const cookie = options.cookie ?? (userId === null ? null : await identityCookieFor(userId));
  if (cookie) headers.set("Cookie", cookie);
  return send(`${PORTAL}${path}`, {
    method: "POST",
    headers,
    body: new URLSearchParams(fields).toString(),
    bindings: options.bindings,
  });
}
