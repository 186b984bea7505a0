/**
 * Helpers for the dashboard tests: requests with HTTP Basic credentials, and reading the page with
 * the runtime's own HTML parser (HTMLRewriter). Text comes back as it is in the HTML, entities
 * and all, which is what the escaping tests want to see.
 */
import { expect } from "vitest";
import { API_TOKEN } from "./api";
import { type SendOptions, send } from "./worker";

/**
 * The dashboard's own host in these tests: vitest.config.ts sets `DASHBOARD_HOST` to it, and the
 * site is `https://shop.example` (./worker.ts). The dashboard answers nowhere else.
 */
export const DASHBOARD_ORIGIN = "https://admin.shop.example";
/** The dashboard's path, as its forms and redirects name it. */
export const DASHBOARD = "/_reflinks/dashboard";
export const DASHBOARD_URL = `${DASHBOARD_ORIGIN}${DASHBOARD}`;

/** `Authorization: Basic base64(user:password)` (RFC 7617), UTF-8. */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** GETs the dashboard with `?query`, signed in as a browser would be unless headers say otherwise. */
export function openDashboard(query = "", options: SendOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", basic("me", API_TOKEN));
  return send(`${DASHBOARD_URL}${query ? `?${query}` : ""}`, { ...options, headers });
}

export interface Element {
  tagName: string;
  attributes: Record<string, string>;
  /** The text inside the element (and its descendants), as written in the HTML. */
  text: string;
}

/** Every element matching `selector`, in document order. */
export async function select(html: string, selector: string): Promise<Element[]> {
  const found: Element[] = [];
  const open: Element[] = [];
  await new HTMLRewriter()
    .on(selector, {
      element(element) {
        const entry: Element = {
          tagName: element.tagName,
          attributes: Object.fromEntries(element.attributes),
          text: "",
        };
        found.push(entry);
        open.push(entry);
        // A void element (<input>) has no end tag: onEndTag throws, and the element holds no text.
        try {
          element.onEndTag(() => {
            open.splice(open.indexOf(entry), 1);
          });
        } catch {
          open.splice(open.indexOf(entry), 1);
        }
      },
      text(chunk) {
        for (const entry of open) entry.text += chunk.text;
      },
    })
    .transform(new Response(html))
    .text();
  return found;
}

/** The trimmed texts of the elements matching `selector`. */
export async function texts(html: string, selector: string): Promise<string[]> {
  return (await select(html, selector)).map((element) => element.text.trim());
}

/** A count as the page writes it (`1,234`), as a number. */
export const count = (text: string | undefined) => Number((text ?? "").replaceAll(",", ""));

/** The rows of the links table: identifier and the numbers of each `data-col`. */
export async function linkRows(html: string): Promise<({ identifier?: string } & Record<string, number>)[]> {
  const rows = await select(html, "table[data-table=links] tbody tr");
  const cells = await select(html, "table[data-table=links] tbody td[data-col]");
  const perRow = cells.length / Math.max(rows.length, 1);
  return rows.map((row, index) => {
    const numbers: Record<string, number> = {};
    for (const cell of cells.slice(index * perRow, (index + 1) * perRow)) {
      numbers[cell.attributes["data-col"] ?? "?"] = count(cell.text.trim());
    }
    return { ...numbers, identifier: row.attributes["data-link"] } as { identifier?: string } & Record<
      string,
      number
    >;
  });
}

/** The dashboard's own origin, as a browser sends it on a form post from the dashboard. */
export const SAME_ORIGIN = { Origin: DASHBOARD_ORIGIN, "Sec-Fetch-Site": "same-origin" };

/**
 * The fields of the first form of the page matching `selector` (say `form[action="…"]`, or a row's
 * form), as the browser would send them: every named input with its value.
 */
export async function formFields(html: string, selector: string): Promise<Record<string, string>> {
  const inputs = await select(html, `${selector} input[name]`);
  expect(inputs.length, `no form ${selector}`).toBeGreaterThan(0);
  const fields: Record<string, string> = {};
  // The first matching form only: its inputs come first, up to the next form's first one.
  for (const input of inputs) {
    const name = input.attributes.name ?? "";
    if (name in fields) break;
    fields[name] = (input.attributes.value ?? "").replaceAll("&amp;", "&");
  }
  return fields;
}

/**
 * POSTs a dashboard form as a browser would: urlencoded, signed in, from the dashboard's origin
 * unless `headers` say otherwise (a header set to "" is left out).
 */
export function postForm(
  action: string,
  fields: Record<string, string>,
  headers: Record<string, string> = SAME_ORIGIN,
): Promise<Response> {
  const sent = new Headers({
    Authorization: basic("me", API_TOKEN),
    "Content-Type": "application/x-www-form-urlencoded",
  });
  for (const [name, value] of Object.entries(headers)) {
    if (value === "") sent.delete(name);
    else sent.set(name, value);
  }
  return send(new URL(action, DASHBOARD_ORIGIN).href, {
    method: "POST",
    headers: sent,
    body: new URLSearchParams(fields).toString(),
  });
}

/** The dashboard's page for the query `search`, as HTML; a page that is not 200 fails the test. */
export async function dashboardHtml(search = ""): Promise<string> {
  const response = await openDashboard(search);
  const html = await response.text();
  expect(response.status, html).toBe(200);
  return html;
}

/**
 * Sends the form `selector` of the page `html` as a browser would (every field it renders, some
 * `changes` made), expects the action's 303 (never cached) back to the dashboard, and returns
 * where it leads.
 */
export async function submitForm(
  html: string,
  selector: string,
  changes: Record<string, string> = {},
): Promise<URL> {
  const fields = await formFields(html, selector);
  const action = (await select(html, selector))[0]?.attributes.action ?? "";
  const response = await postForm(action, { ...fields, ...changes });
  await response.body?.cancel();
  expect(response.status).toBe(303);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  const location = response.headers.get("Location") ?? "";
  expect(location.startsWith(`${DASHBOARD}?`), location).toBe(true);
  return new URL(location, DASHBOARD_ORIGIN);
}
