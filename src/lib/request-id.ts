/**
 * The id an operator uses to match a visitor's report ("it failed, here is the id") to the log:
 * Cloudflare's `cf-ray` where the edge set it, else one made here. Made lazily and remembered per
 * request, so a page view that logs nothing pays nothing for it.
 */
const ids = new WeakMap<Request, string>();

export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    id = request.headers.get("cf-ray") || crypto.randomUUID();
    ids.set(request, id);
  }
  return id;
}
