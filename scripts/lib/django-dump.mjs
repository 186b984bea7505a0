// Maps a django-reflinks dump (`manage.py dumpdata django_reflinks auth.user`) to SQL for D1.
// Pure: no I/O, so that the mapping is tested on its own; scripts/import-django.mjs runs the SQL.
//
// Every statement is INSERT ... ON CONFLICT DO NOTHING keyed on something the dump fixes (a link's
// identifier, a hit's UUID, a referral's user and event), so importing a dump twice adds nothing
// the second time, and rows made by the worker since are never overwritten.

const IDENTIFIER = /^[A-Za-z0-9_-]{1,50}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The worker cuts user agents, referers and next URLs to this length; so does the import. */
const MAX_TEXT = 1024;
const KNOWN = new Set([
  "django_reflinks.referrallink",
  "django_reflinks.referralhit",
  "django_reflinks.confirmedreferral",
]);

export class DumpError extends Error {}

const sql = (value) => {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
};

const name = (record) => `${record.model} pk=${JSON.stringify(record.pk)}`;

/**
 * Reads a dump's records into SQL statements.
 * @param {unknown} dump the parsed JSON of dumpdata
 * @param {{ event?: string }} [options] the `event` imported confirmations get (default `signup`)
 * @returns {{ statements: string[], counts: { links: number, hits: number, confirmations: number } }}
 */
export function dumpToSql(dump, { event = "signup" } = {}) {
  if (!Array.isArray(dump)) throw new DumpError("the dump is not a JSON array: is it dumpdata's output?");
  const records = dump.filter((r) => r && typeof r === "object" && typeof r.model === "string");
  if (records.length !== dump.length)
    throw new DumpError("the dump holds entries that are not dumpdata records");
  for (const record of records) {
    if (record.model.startsWith("django_reflinks.") && !KNOWN.has(record.model)) {
      throw new DumpError(`${name(record)}: unknown django_reflinks model, not imported`);
    }
  }
  const of = (model) => records.filter((r) => r.model === model);

  // Users: reflinks knows a user by the id the site sends, the primary key as text. A dump made
  // with --natural-foreign names users by username instead: auth.user maps those back.
  const pkByUsername = new Map(of("auth.user").map((u) => [u.fields?.username, u.pk]));
  const userId = (record, field) => {
    const value = record.fields[field];
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) {
      const pk = pkByUsername.get(value[0]);
      if (pk === undefined) {
        throw new DumpError(
          `${name(record)}: ${field} ${JSON.stringify(value)} is not an auth.user in the dump`,
        );
      }
      return String(pk);
    }
    return String(value);
  };
  const time = (record, field, { optional = false } = {}) => {
    const value = record.fields[field];
    if (value === null || value === undefined) {
      if (optional) return null;
      throw new DumpError(`${name(record)}: ${field} is missing`);
    }
    // dumpdata writes UTC with a Z under USE_TZ = True; without it, a naive time, read as UTC.
    const text = String(value);
    const date = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
    if (Number.isNaN(date.getTime()))
      throw new DumpError(`${name(record)}: ${field} ${JSON.stringify(value)} is not a date`);
    return date.toISOString();
  };
  const text = (record, field) => {
    const value = record.fields[field];
    return value === null || value === undefined || value === "" ? null : String(value).slice(0, MAX_TEXT);
  };

  const statements = [];
  const links = new Map();
  for (const link of of("django_reflinks.referrallink")) {
    const fields = link.fields ?? {};
    link.fields = fields;
    if (!IDENTIFIER.test(fields.identifier ?? "")) {
      throw new DumpError(
        `${name(link)}: identifier ${JSON.stringify(fields.identifier)} is not 1-50 of A-Z a-z 0-9 _ -; rename it in Django first`,
      );
    }
    const row = { identifier: fields.identifier, userId: userId(link, "user") };
    links.set(String(link.pk), row);
    const created = time(link, "created");
    statements.push(
      "INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES " +
        `(${sql(row.identifier)}, ${sql(row.userId)}, ${fields.disabled ? 1 : 0}, ${sql(created)}, ${sql(time(link, "updated", { optional: true }) ?? created)}) ` +
        "ON CONFLICT (identifier) DO NOTHING;",
    );
  }
  const linkId = (identifier) => `(SELECT id FROM referral_links WHERE identifier = ${sql(identifier)})`;

  const hits = new Map();
  for (const hit of of("django_reflinks.referralhit")) {
    hit.fields ??= {};
    if (!UUID.test(String(hit.pk))) throw new DumpError(`${name(hit)}: the hit's id is not a UUID`);
    const link = links.get(String(hit.fields.referral_link));
    if (!link) {
      throw new DumpError(
        `${name(hit)}: referral_link ${JSON.stringify(hit.fields.referral_link)} is not a referrallink in the dump`,
      );
    }
    const id = String(hit.pk).toLowerCase();
    hits.set(String(hit.pk), { id, link, hitUserId: userId(hit, "hit_user"), record: hit });
  }

  // Confirmations: ConfirmedReferral records (earlier releases), and hits marked `confirmed` (the
  // latest release). Both give one confirmed_referrals row; reflinks holds one per user and event.
  const referrals = new Map(); // user id -> { record, hit, createdAt }
  const addReferral = (record, hit, user, createdAt) => {
    if (user === null) {
      throw new DumpError(
        `${name(record)}: confirmed, but no user is known for it, so no referral can be credited`,
      );
    }
    const earlier = referrals.get(user);
    if (earlier && earlier.hit !== hit) {
      throw new DumpError(
        `${name(record)}: user ${user} already has a confirmed referral (${name(earlier.record)}); ` +
          `reflinks keeps one per user and event ("${event}")`,
      );
    }
    if (!earlier) referrals.set(user, { record, hit, createdAt });
  };
  for (const confirmation of of("django_reflinks.confirmedreferral")) {
    confirmation.fields ??= {};
    const hit = hits.get(String(confirmation.fields.referral_hit));
    if (!hit) {
      throw new DumpError(
        `${name(confirmation)}: referral_hit ${JSON.stringify(confirmation.fields.referral_hit)} is not a referralhit in the dump`,
      );
    }
    addReferral(confirmation, hit, userId(confirmation, "referred_user"), time(confirmation, "created"));
  }
  const confirmedAt = new Map();
  for (const { createdAt, hit } of referrals.values()) confirmedAt.set(hit, createdAt);
  for (const hit of hits.values()) {
    const confirmed = time(hit.record, "confirmed", { optional: true });
    if (confirmed) {
      addReferral(hit.record, hit, hit.hitUserId, confirmed);
      confirmedAt.set(hit, confirmed);
    }
  }

  for (const hit of hits.values()) {
    const { record } = hit;
    const created = time(record, "created");
    const authenticated = record.fields.authenticated === true ? 1 : 0;
    // django-reflinks' anonymous cookie held the hit's own id: keeping it as the anonymous id
    // counts each of those visitors once, as Django did.
    const anonymousId = authenticated ? null : hit.id;
    statements.push(
      "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, http_referer, next, confirmed_at, created_at, updated_at) VALUES " +
        `(${sql(hit.id)}, ${linkId(hit.link.identifier)}, ${sql(anonymousId)}, ${authenticated}, ${sql(hit.hitUserId)}, ` +
        `${sql(text(record, "ip"))}, ${sql(text(record, "user_agent"))}, ${sql(text(record, "http_referer"))}, ` +
        `${sql(text(record, "next") ?? "")}, ${sql(confirmedAt.get(hit) ?? null)}, ${sql(created)}, ` +
        `${sql(time(record, "updated", { optional: true }) ?? created)}) ON CONFLICT (id) DO NOTHING;`,
    );
  }
  for (const [user, { hit, createdAt }] of referrals) {
    statements.push(
      "INSERT INTO confirmed_referrals (user_id, event, hit_id, link_id, referrer_user_id, created_at) VALUES " +
        `(${sql(user)}, ${sql(event)}, ${sql(hit.id)}, ${linkId(hit.link.identifier)}, ${sql(hit.link.userId)}, ${sql(createdAt)}) ` +
        "ON CONFLICT (user_id, event) DO NOTHING;",
    );
  }
  return { statements, counts: { links: links.size, hits: hits.size, confirmations: referrals.size } };
}
