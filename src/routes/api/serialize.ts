/** The API's JSON shapes of stored rows (docs/api.md#links): snake_case, the columns' own names. */
import type { Config } from "../../config";
import type { ReferralHit, ReferralLink } from "../../db/schema";
import type { HitJson, LinkJson } from "./schemas";

export function linkJson(link: ReferralLink, requestUrl: URL, config: Config): LinkJson {
  return {
    identifier: link.identifier,
    user_id: link.userId,
    disabled: link.disabled,
    url: `${requestUrl.origin}${config.refPath}${link.identifier}`,
    created_at: link.createdAt,
    updated_at: link.updatedAt,
  };
}

export function hitJson(hit: ReferralHit, identifier: string): HitJson {
  return {
    id: hit.id,
    link: identifier,
    anonymous_id: hit.anonymousId,
    authenticated: hit.authenticated,
    hit_user_id: hit.hitUserId,
    ip: hit.ip,
    user_agent: hit.userAgent,
    http_referer: hit.httpReferer,
    next: hit.next,
    country: hit.country,
    confirmed_at: hit.confirmedAt,
    created_at: hit.createdAt,
    updated_at: hit.updatedAt,
  };
}
