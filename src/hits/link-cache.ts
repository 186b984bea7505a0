/**
 * Link lookups remembered in the isolate for `LINK_CACHE_SECONDS`, misses too, so that a popular
 * link, or the same `?ref=garbage` repeated, costs one D1 query per isolate per TTL instead of one
 * per request (distinct made-up identifiers still cost one each: SECURITY.md). The price:
 * disabling or deleting a link takes up to the TTL to reach every isolate (the isolate that served
 * the API change forgets the link at once).
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

/** The link named `identifier`, from the cache while fresh, else from D1. Errors are not cached. */
export async function cachedLinkTarget(
  binding: D1Database,
  identifier: string,
  ttlMs: number,
  now = Date.now(),
): Promise<LinkTarget | null> {
  if (ttlMs <= 0) return findLinkTarget(database(binding), identifier);
  const cache = cacheOf(binding);
  const entry = cache.get(identifier);
  if (entry && entry.expiresAt > now) return entry.link;
  const link = await findLinkTarget(database(binding), identifier);
  cache.delete(identifier);
  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(identifier, { link, expiresAt: now + ttlMs });
  return link;
}

/** Forgets a link in this isolate's cache, after the API changed or deleted it. */
export function forgetLink(binding: D1Database, identifier: string): void {
  caches.get(binding)?.delete(identifier);
}
