/**
 * The operator's door (SECURITY.md, "A script on the site driving the dashboard"): the dashboard moves
 * money, and a browser resends HTTP Basic credentials to every request of the origin that earned
 * them, so a dashboard on the site's own origin could be read and driven by any script on any page
 * of the site. It therefore answers only on `DASHBOARD_HOST`, a host that serves nothing else but
 * the JSON API (which a browser never authenticates by itself); unset, only on the host name
 * `localhost`, for local development, where the site is reached as `127.0.0.1`.
 */
import type { DashboardHost } from "./config";

/**
 * Whether `url` (a request's absolute URL, its host lower-cased by the URL parser) is on `host`:
 * the host name, and the port only when the setting names one. String work only, no URL parsing:
 * with `DASHBOARD_HOST` set, every page view asks.
 */
export function isOnHost(url: string, host: { hostname: string; port: string | null }): boolean {
  const start = url.indexOf("//") + 2;
  const slash = url.indexOf("/", start);
  const authority = slash === -1 ? url.slice(start) : url.slice(start, slash);
  const colon = authority.lastIndexOf(":");
  const hostname = colon === -1 ? authority : authority.slice(0, colon);
  if (hostname !== host.hostname) return false;
  if (host.port === null) return true;
  return (colon === -1 ? defaultPortOf(url) : authority.slice(colon + 1)) === host.port;
}

/** The port a URL without one uses: URLs leave a scheme's default port out. */
function defaultPortOf(url: string): string {
  return url.startsWith("https:") ? "443" : "80";
}

const LOCAL_DEVELOPMENT = { hostname: "localhost", port: null };

/** Whether the dashboard answers this request's URL. */
export function dashboardAnswers(url: string, host: DashboardHost): boolean {
  return isOnHost(url, host.own ? host : LOCAL_DEVELOPMENT);
}

const NOT_HERE_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/**
 * The dashboard asked for on the site's host: 404 before any authentication, so the browser is
 * never asked for (or resends) the dashboard's credentials here. It names the setting, not its
 * value: the dashboard's host is the owner's to publish.
 */
export function dashboardNotHere(): Response {
  return new Response(
    "Not found. The reflinks dashboard answers only on its own host: the one DASHBOARD_HOST names " +
      "(unset: localhost, for local development).\n",
    { status: 404, headers: NOT_HERE_HEADERS },
  );
}

/** Anything but the dashboard and the API on the dashboard's own host. */
export function onlyTheDashboardHere(): Response {
  return new Response(
    "Not found. This host (DASHBOARD_HOST) serves only the reflinks dashboard and API; the site, its " +
      "referral links and the referrer's page are on the site's own host.\n",
    { status: 404, headers: NOT_HERE_HEADERS },
  );
}
