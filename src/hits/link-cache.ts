/**
 * Link lookups remembered in the isolate for `LINK_CACHE_SECONDS`, found links and misses, so that
 * a popular link, or the same `?ref=garbage` repeated, costs one D1 query per isolate per TTL
 * instead of one per request (distinct made-up identifiers still cost one each: SECURITY.md).
 *
 * A remembered link answers both referral routes. A remembered miss answers only `?ref=`, where a
 * miss just shows the page and caching it keeps a `?ref=garbage` flood on every page off D1. A
 * `{REF_PATH}<identifier>` click is never lost to a remembered miss: it asks D1 again, and the
 * answer refreshes the cache, because the link may have been created since (through an API call
 * that another isolate served). The price: every `/ref/` click on an unknown identifier costs a
 * D1 query.
 *
 * What the TTL still delays in every isolate but the one that served the API change (which
 * forgets the link at once): disabling, re-enabling or deleting a link, and a new link's first
 * `?ref=` visits in an isolate that remembered its miss.
 */
import { database } from "../db/client";
import { findLinkTarget, type LinkTarget } from "../db/queries/links";

interface Entry {
  link: LinkTarget | null;
  expiresAt: number;
}

/** Enough for every live link of a busy site; beyond it the oldest entries go first. */
const MAX_ENTRIES = 10_000;

// One cache per D1 binding: a worker has one, tests give some requests another.
const caches = new WeakMap<object, Map<string, Entry>>();

function cacheOf(binding: object): Map<string, Entry> {
  let cache = caches.get(binding);
  if (!cache) {
    cache = new Map();
    caches.set(binding, cache);
  }
  return cache;
}

export interface LookupOptions {
  /** How long an answer is remembered; 0: never (every lookup asks D1). */
  ttlMs: number;
  /** Whether a remembered "no such link" may answer; false: only D1 can say a link is missing. */
  trustCachedMiss: boolean;
  /** The clock, for tests. */
  now?: number;
}

/**
 * The link named `identifier`: from the cache while fresh (a miss only if `trustCachedMiss`), else
 * from D1, whose answer, found or not, is then remembered. Errors are not cached.
 */
export async function cachedLinkTarget(
  binding: D1Database,
  identifier: string,
  { ttlMs, trustCachedMiss, now = Date.now() }: LookupOptions,
): Promise<LinkTarget | null> {
  if (ttlMs <= 0) return findLinkTarget(database(binding), identifier);
  const cache = cacheOf(binding);
  const entry = cache.get(identifier);
  if (entry && entry.expiresAt > now && (entry.link !== null || trustCachedMiss)) return entry.link;
  const link = await findLinkTarget(database(binding), identifier);
  cache.delete(identifier);
  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(identifier, { link, expiresAt: now + ttlMs });
  return link;
}

/**
 * What {@link cachedLinkTarget} would answer from the cache, without a promise: the link, null for
 * a remembered miss (only if `trustCachedMiss`), or undefined when only D1 can answer (nothing
 * fresh remembered, or `ttlMs` 0).
 */
export function rememberedLinkTarget(
  binding: D1Database,
  identifier: string,
  { ttlMs, trustCachedMiss, now = Date.now() }: LookupOptions,
): LinkTarget | null | undefined {
  if (ttlMs <= 0) return undefined;
  const entry = caches.get(binding)?.get(identifier);
  if (entry && entry.expiresAt > now && (entry.link !== null || trustCachedMiss)) return entry.link;
  return undefined;
}

/** Forgets a link in this isolate's cache, after the API changed or deleted it. */
export function forgetLink(binding: D1Database, identifier: string): void {
  caches.get(binding)?.delete(identifier);
}
