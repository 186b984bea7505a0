/**
 * The API's objects as SQLite JSON, for outbox rows written inside the same D1 batch as the change
 * (when ids come from autoincrement, the row exists only inside the batch). Each builder mirrors
 * its serializer in src/routes/api/serialize.ts field for field; test/routes/webhooks.events.test.ts
 * checks every event's `data` against what the API answers for the same object.
 */
import { type SQL, sql } from "drizzle-orm";
import { holdEndedSql } from "../db/queries/hold-sql";

const bool = (column: SQL) => sql`json(CASE WHEN ${column} THEN 'true' ELSE 'false' END)`;
const identifierOf = (linkId: SQL) =>
  sql`(SELECT li.identifier FROM referral_links li WHERE li.id = ${linkId})`;

/** `conversionJson`: `status` as of `now` (pending past `approve_at` reads as approved). */
export function conversionData(c: string, now: string): SQL {
  const col = (name: string) => sql.raw(`${c}.${name}`);
  return sql`json_object('id', ${col("id")}, 'external_id', ${col("external_id")},
    'user_id', ${col("user_id")}, 'referrer_user_id', ${col("referrer_user_id")},
    'link', ${identifierOf(col("link_id"))}, 'referral_id', ${col("referral_id")},
    'amount', ${col("amount")}, 'currency', ${col("currency")}, 'commission', ${col("commission")},
    'status', CASE WHEN ${holdEndedSql(c, now)} THEN 'approved' ELSE ${col("status")} END,
    'approve_at', ${col("approve_at")}, 'reversed_amount', ${col("reversed_amount")},
    'payout_id', ${col("payout_id")}, 'created_at', ${col("created_at")})`;
}

/** `reversalJson`. */
export function reversalData(v: string): SQL {
  const col = (name: string) => sql.raw(`${v}.${name}`);
  return sql`json_object('id', ${col("id")}, 'reversal_id', ${col("reversal_id")}, 'amount', ${col("amount")},
    'commission_delta', ${col("commission_delta")}, 'payout_id', ${col("payout_id")},
    'created_at', ${col("created_at")})`;
}

/** A referral as `/confirm` answers it. */
export function referralData(r: string): SQL {
  const col = (name: string) => sql.raw(`${r}.${name}`);
  return sql`json_object('id', ${col("id")}, 'user_id', ${col("user_id")}, 'event', ${col("event")},
    'link', ${identifierOf(col("link_id"))}, 'referrer_user_id', ${col("referrer_user_id")},
    'hit_id', ${col("hit_id")}, 'created_at', ${col("created_at")}, 'status', ${col("status")},
    'flags', json(${col("flags")}), 'reason', ${col("reason")}, 'source', ${col("source")})`;
}

/** A payout as `POST /payouts` answers it, with the counts of what it is made of. */
export function payoutData(p: string): SQL {
  const col = (name: string) => sql.raw(`${p}.${name}`);
  return sql`json_object('id', ${col("id")}, 'referrer_user_id', ${col("referrer_user_id")},
    'currency', ${col("currency")}, 'amount', ${col("amount")},
    'conversions', (SELECT COUNT(*) FROM conversions pc WHERE pc.payout_id = ${col("id")}),
    'clawbacks', (SELECT COUNT(*) FROM reversals pr WHERE pr.payout_id = ${col("id")}),
    'created_at', ${col("created_at")})`;
}

/** `linkJson`: `url` is `urlPrefix` (the request's origin and `REF_PATH`) and the identifier. */
export function linkData(l: string, urlPrefix: string): SQL {
  const col = (name: string) => sql.raw(`${l}.${name}`);
  return sql`json_object('identifier', ${col("identifier")}, 'user_id', ${col("user_id")},
    'disabled', ${bool(col("disabled"))}, 'commission', ${col("commission")},
    'referee_reward', ${col("referee_reward")}, 'expires_at', ${col("expires_at")},
    'commission_payments', ${col("commission_payments")},
    'coupons', json((SELECT json_group_array(code) FROM
      (SELECT lc.code FROM coupons lc WHERE lc.link_id = ${col("id")} ORDER BY lc.code))),
    'url', ${urlPrefix} || ${col("identifier")}, 'created_at', ${col("created_at")},
    'updated_at', ${col("updated_at")})`;
}

/** `hitJson`. */
export function hitData(h: string): SQL {
  const col = (name: string) => sql.raw(`${h}.${name}`);
  return sql`json_object('id', ${col("id")}, 'link', ${identifierOf(col("link_id"))},
    'anonymous_id', ${col("anonymous_id")}, 'authenticated', ${bool(col("authenticated"))},
    'hit_user_id', ${col("hit_user_id")}, 'ip', ${col("ip")}, 'user_agent', ${col("user_agent")},
    'http_referer', ${col("http_referer")}, 'next', ${col("next")}, 'country', ${col("country")},
    'confirmed_at', ${col("confirmed_at")}, 'duplicate', ${bool(col("duplicate"))},
    'consented', ${bool(col("consented"))}, 'created_at', ${col("created_at")},
    'updated_at', ${col("updated_at")})`;
}
