/**
 * Open-redirect payloads for the safe-`next` rule (docs/routing.md#safe-next: "No payload of the usual
 * open-redirect lists may send a visitor to another host").
 *
 * Drawn from the well-known public lists (PayloadsAllTheThings "Open Redirect" and its Intruder
 * list, the OWASP "Unvalidated Redirects and Forwards" cheat sheet, common bug-bounty bypass
 * write-ups), rewritten for this test site: the site is `shop.example`, the allowed extra host in
 * some tests is `app.example`, and every other host named here is an attacker's ({@link EVIL_HOSTS}).
 *
 * The strings are the payloads as an attacker would type them, before any URL encoding: the tests
 * send each one both percent-encoded (`encodeURIComponent`) and raw in the query string.
 */

/** The site under test, as `test/support/worker.ts` sends requests to it. */
export const SITE_HOST = "shop.example";

/** A host the tests allow with `ALLOWED_REDIRECT_HOSTS` in some cases. */
export const ALLOWED_HOST = "app.example";

/** Every host the payloads try to reach. None of them may ever appear in a `Location`. */
export const EVIL_HOSTS = [
  "evil.com",
  "www.evil.com",
  "evil.com.",
  "attacker.example",
  "shop.example.evil.com",
  "app.example.evil.com",
  "shop.exampleevil.com",
  "evil.com.shop.example",
  "shop.example:8443",
  "127.0.0.1",
  "[::1]",
] as const;

const E = "evil.com";
const S = SITE_HOST;
const A = ALLOWED_HOST;

export const OPEN_REDIRECT_PAYLOADS: readonly string[] = [
  // --- Plain absolute URLs, and scheme/case games -------------------------------------------
  `https://${E}`,
  `https://${E}/`,
  `http://${E}`,
  `HTTPS://${E.toUpperCase()}/`,
  `hTTpS://${E}`,
  `https://www.${E}/path?param=value#frag`,
  `ftp://${E}`,
  `${E}`,
  `www.${E}`,
  `${E}/path`,
  // --- Protocol-relative and its slash/backslash variants ------------------------------------
  `//${E}`,
  `//${E}/`,
  `///${E}`,
  `////${E}`,
  `//////${E}`,
  `//${E}/%2f..`,
  `////${E}/%2f%2e%2e`,
  `\\\\${E}`,
  `\\/${E}`,
  `/\\${E}`,
  `/\\/${E}`,
  `\\/\\/${E}`,
  `/\\/\\/${E}/`,
  `//\\${E}`,
  `//\\/\\${E}/`,
  `/\\\\${E}`,
  `\\${E}`,
  // --- Scheme without slashes, scheme with odd slashes --------------------------------------
  `https:${E}`,
  `https:/${E}`,
  `https:\\\\${E}`,
  `https:/\\${E}`,
  `https:///${E}`,
  `/https:${E}`,
  `/https:/%5c${E}/`,
  `/https://${E}`,
  `/http://${E}`,
  `http:/\\/\\${E}`,
  // --- Encoded slashes, backslashes and whitespace between the slashes ----------------------
  `%2F%2F${E}`,
  `%2f%2f${E}`,
  `/%2F%2F${E}`,
  `/%2f%2f${E}`,
  `/%5C${E}`,
  `/%5c%5c${E}`,
  `%5C%5C${E}`,
  `/%2F/${E}`,
  `/%09/${E}`,
  `//%09/${E}`,
  `///%09/${E}`,
  `////%09/${E}`,
  `/%0d/${E}`,
  `/%0a/${E}`,
  `/%2f%5c%2f%65%76%69%6c%2e%63%6f%6d/`,
  `%252F%252F${E}`,
  `https%3A%2F%2F${E}`,
  `https%253A%252F%252F${E}`,
  // --- Literal control characters, whitespace and invisible characters ----------------------
  `/\t/${E}`,
  `/\n/${E}`,
  `/\r/${E}`,
  `\t//${E}`,
  ` //${E}`,
  `/ /${E}`,
  `/\0/${E}`,
  `//${E}\0.${S}`,
  `//evil\0.com`,
  `java\tscript:alert(1)`,
  `/\u200b/${E}`,
  `/\u00a0/${E}`,
  `/\u2028/${E}`,
  `/\ufeff/${E}`,
  `\u200e//${E}`,
  // --- Dot segments that collapse into a protocol-relative path -----------------------------
  `/.${E}`,
  `/./${E}`,
  `/.//${E}`,
  `/..//${E}`,
  `/../..//${E}`,
  `/a/..//${E}`,
  `/%2e//${E}`,
  `/%2e%2e//${E}`,
  `/%2E%2E//${E}`,
  `/..%2f/${E}`,
  `/..;//${E}`,
  `/.../${E}`,
  // --- The site's own name used as bait -----------------------------------------------------
  `http://${S}`,
  `http://${S}/account`,
  `//${S}`,
  `//${E}@${S}`,
  `//${S}@${E}`,
  `https://${S}@${E}`,
  `https://${S}:443@${E}`,
  `https://${S}%40${E}`,
  `https://${S}%2F@${E}`,
  `https://${E}%2F@${S}`,
  `https://${E}\\@${S}`,
  `https://${E}?${S}`,
  `https://${E}#${S}`,
  `https://${E}/${S}`,
  `https://${E}\\${S}`,
  `https://${S}.${E}`,
  `https://${S}${E}`,
  `https://${E}.${S}`,
  `https://${S}:8443/`,
  `https://user:pass@${S}/`,
  `https://${S}\\@${E}`,
  `${S}@${E}`,
  `${S}%40${E}`,
  `${S}.${E}`,
  `/${S}@${E}`,
  `@${E}`,
  `:@${E}`,
  // --- The allowed host used as bait (only app.example itself may be reached when allowed) --
  `http://${A}/`,
  `//${A}`,
  `https://${A}@${E}`,
  `https://${A}.${E}`,
  `https://${E}#${A}`,
  `https://${A}:8443/`,
  `https://user@${A}/`,
  // --- Dangerous schemes ---------------------------------------------------------------------
  "javascript:alert(1)",
  "JavaScript:alert(document.domain)",
  "javascript://%0aalert(1)",
  `javascript://${S}/%0aalert(1)`,
  "/javascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
  "vbscript:msgbox(1)",
  `file://${E}/etc/passwd`,
  "blob:https://evil.com/uuid",
  // --- Unicode: full-width characters, look-alike slashes and dots, IDN ----------------------
  `／／${E}`,
  `/／${E}`,
  `＼＼${E}`,
  `/＼${E}`,
  `ｈｔｔｐｓ：／／${E}`,
  `https://ｅｖｉｌ.ｃｏｍ`,
  `〱${E}`,
  `/〱${E}`,
  `〵${E}`,
  `ゝ${E}`,
  `ーー${E}`,
  `//evil。com`,
  `https://evil%E3%80%82com`,
  "https://evil.c℀.example.com",
  "http://ⓔⓥⓘⓛ.ⓒⓞⓜ",
  "https://shop.exаmple/",
  "https://xn--shop-example/",
  `https://${S}\u3002${E}/`,
  `/${E}/°${S}`,
  // --- IP address forms ----------------------------------------------------------------------
  "//127.0.0.1",
  "https://2130706433/",
  "https://0x7f.0x0.0x0.0x1/",
  "//[::1]/",
  // --- Path that names a host inside a harmless-looking path ---------------------------------
  `/<>//${E}`,
  `/;@${E}`,
  `/@${E}`,
  `/?next=//${E}`,
  `/#//${E}`,
  `/${E}`,
  `/redirect?url=https://${E}`,
];
