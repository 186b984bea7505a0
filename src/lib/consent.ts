import type { ConsentRule } from "../config";
import { readCookie } from "./visitor-cookie";

/**
 * Whether a request's visitor has consented to be identified under `CONSENT`
 * (docs/privacy.md#consent): always under `none`; under `gpc`, unless the browser sends the Global
 * Privacy Control signal `Sec-GPC: 1`; under `cookie:NAME[=VALUE]`, only when the request carries
 * that cookie (with that value, when one is given). Called on referral clicks and login reports
 * only, never on a page view.
 *
 * @example hasConsented(new Request("https://a.example", { headers: { "Sec-GPC": "1" } }), { kind: "gpc" }) // false
 */
export function hasConsented(request: Request, rule: ConsentRule): boolean {
  switch (rule.kind) {
    case "none":
      return true;
    case "gpc":
      return request.headers.get("Sec-GPC")?.trim() !== "1";
    case "cookie": {
      const value = readCookie(request, rule.name);
      return value !== undefined && (rule.value === null || value === rule.value);
    }
  }
}
