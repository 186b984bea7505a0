/**
 * The dashboard's per-form tokens, against cross-site request forgery. A browser re-sends the
 * operator's Basic credentials to the dashboard whatever page asks, so a form on another site
 * could post to an action as the operator; only a page that could read the dashboard (same origin,
 * signed in) holds a token. Each form gets its own: an HMAC-SHA256 over the form's action path,
 * the time it was made and a random nonce, keyed with a key derived from `API_TOKEN` (HKDF-SHA256,
 * info "reflinks dashboard form"), so no state is stored and a token fits only the form it was made
 * for. Stateless, so one is not single-use: what makes a payout happen once is its idempotency key.
 * This is the synchronizer-token defence of the OWASP CSRF cheat sheet, HMAC variant; the
 * `Origin`/`Sec-Fetch-Site` check (hono's `csrf`) is the other half.
 */
import { toBase64url as base64url, fromBase64url } from "../../lib/base64";
import { derivedHmacKey } from "../../lib/keys";

/** How long a rendered form can be sent: a page left open a day must be reloaded. */
export const FORM_TOKEN_MAX_AGE_SECONDS = 12 * 60 * 60;
/** Clock skew tolerated between isolates, for a token that seems to come from the future. */
const SKEW_SECONDS = 60;

const HKDF_INFO = "reflinks dashboard form";

/** The forms' key, derived from `API_TOKEN` once per isolate (src/lib/keys.ts). */
const keyOf = (apiToken: string) => derivedHmacKey(apiToken, HKDF_INFO);

const signed = (action: string, issued: string, nonce: string) =>
  new TextEncoder().encode(`${action}\n${issued}\n${nonce}`);

/**
 * A token for the form that posts to `action` (its path), made now.
 *
 * @example await formToken(config.apiToken, "/_reflinks/dashboard/payouts")
 */
export async function formToken(apiToken: string, action: string, now = Date.now()): Promise<string> {
  const issued = String(Math.floor(now / 1000));
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(12)));
  const mac = await crypto.subtle.sign("HMAC", await keyOf(apiToken), signed(action, issued, nonce));
  return `${issued}.${nonce}.${base64url(mac)}`;
}

/** Why a token was refused; null when it is good for `action`. */
export async function checkFormToken(
  apiToken: string,
  action: string,
  token: string | undefined,
  now = Date.now(),
): Promise<"missing" | "invalid" | "expired" | null> {
  if (!token) return "missing";
  const [issued, nonce, mac, extra] = token.split(".");
  if (!issued || !nonce || !mac || extra !== undefined || !/^\d{1,12}$/.test(issued)) return "invalid";
  const signature = fromBase64url(mac);
  if (!signature) return "invalid";
  // Verified in constant time by WebCrypto before the age is looked at.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await keyOf(apiToken),
    signature,
    signed(action, issued, nonce),
  );
  if (!valid) return "invalid";
  const age = now / 1000 - Number(issued);
  if (age > FORM_TOKEN_MAX_AGE_SECONDS || age < -SKEW_SECONDS) return "expired";
  return null;
}
