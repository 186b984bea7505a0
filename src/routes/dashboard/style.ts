/**
 * The dashboard's one stylesheet, inlined in the page and allowed by the Content-Security-Policy
 * through its SHA-256 hash (CSP Level 2 hash-source), so the policy needs no `'unsafe-inline'`:
 * a `<style>` or `style=""` that an escaping mistake let in would not apply. Nothing on the page
 * has a `style` attribute.
 *
 * Narrow screens (up to 640 px): the tables of links, payouts, failures and hits become one card
 * per row (counts side by side, two to a line), the earnings and daily tables scroll inside their own box, and the chart is drawn a second time for the width, so its
 * labels stay readable. Identifiers and user ids never break in the middle: a long one is cut
 * with an ellipsis and is whole in its tooltip.
 */
import { toBase64 } from "../../lib/base64";
export const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6678; --bg: #f6f7f9; --card: #fff;
  --line: #dfe3ea; --accent: #2f6fde; --confirm: #d9480f; --mark: #eef4ff; --ok: #1f7a3a; --bad: #b42318;
  --ok-bg: #e8f6ec; --bad-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b5; --bg: #14171d;
  --card: #1c2029; --line: #2d3340; --accent: #6b9cff; --confirm: #ff8a4c; --mark: #1f2a40;
  --ok: #6fd08c; --bad: #ff8a80; --ok-bg: #15301f; --bad-bg: #3a1a18; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main { max-width: 1200px; margin: 0 auto; padding: 16px 20px; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: end; justify-content: space-between; }
h1 { font-size: 20px; margin: 0; } h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 16px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; }
a { color: var(--accent); }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 0; }
form.inline { display: inline-flex; gap: 6px; }
label { display: grid; gap: 2px; font-size: 12px; color: var(--muted); }
input, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); min-width: 0; }
input[type=text] { width: 14em; max-width: 100%; }
input.short { width: 9em; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.quiet { background: var(--card); color: var(--accent); }
nav.quick, nav.sections { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 13px; }
nav.sections { margin: 0 0 12px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px;
  margin: 0 0 16px; min-width: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
.flash { border-radius: 10px; padding: 10px 14px; margin: 0 0 16px; border: 1px solid; }
.flash[data-flash=done] { background: var(--ok-bg); color: var(--ok); }
.flash[data-flash=failed] { background: var(--bad-bg); color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  background: none; border: 0; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; margin: 0; }
.card dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card dd { margin: 0; font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.empty { color: var(--muted); padding: 24px 0; text-align: center; }
.filter { background: var(--mark); border-radius: 6px; padding: 2px 8px; }
.id { display: inline-block; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  vertical-align: bottom; }
.badge { display: inline-block; font-size: 12px; border-radius: 999px; padding: 0 8px; border: 1px solid var(--line); }
.badge.off { color: var(--bad); border-color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr[aria-current] td { background: var(--mark); }
td.text { max-width: 260px; overflow-wrap: anywhere; }
td.who { max-width: 220px; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.manage { min-width: 200px; }
td.manage details { margin: 4px 0 0; font-size: 13px; }
td.manage details form { margin-top: 6px; }
td.manage form + form { margin-top: 6px; }
ul.bans { list-style: none; padding: 0; margin: 8px 0; }
ul.bans li { margin: 0 0 8px; }
ul.bans button { overflow-wrap: anywhere; text-align: left; }
.pager { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-top: 10px; font-size: 14px; }
.chart { width: 100%; height: auto; display: block; }
.chart text { font-size: 11px; fill: var(--muted); }
.chart.narrow { display: none; }
.chart.narrow text { font-size: 13px; }
.chart .grid { stroke: var(--line); }
.chart .bar { fill: var(--accent); }
.chart .hover { fill: transparent; }
.chart .day:hover .hover { fill: var(--mark); }
.chart .confirmed { fill: none; stroke: var(--confirm); stroke-width: 2; }
.chart .confirmed-dot { fill: var(--confirm); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; color: var(--muted); margin-bottom: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.legend i.hits { background: var(--accent); }
.legend i.confirmed { background: var(--confirm); }
details { margin-top: 10px; font-size: 14px; } summary { cursor: pointer; color: var(--muted); }
.money { display: block; white-space: nowrap; font-variant-numeric: tabular-nums; }
.card dd .money { font-size: 20px; }
tfoot th, tfoot td { font-weight: 600; border-bottom: 0; vertical-align: baseline; }
tfoot tr:first-child th, tfoot tr:first-child td { border-top: 2px solid var(--line); }
.create { margin: 0 0 14px; }
.failure { border-top: 1px solid var(--line); padding: 8px 0; }
@media (max-width: 640px) {
  header, main { padding: 12px; }
  section { padding: 12px; }
  .chart.wide { display: none; }
  .chart.narrow { display: block; }
  .card dd { font-size: 22px; }
  table.cards-narrow, table.cards-narrow tbody, table.cards-narrow td { display: block; }
  table.cards-narrow thead { display: none; }
  table.cards-narrow tfoot { display: block; }
  table.cards-narrow tfoot th { grid-column: 1 / -1; text-align: left; padding: 3px 0; border: 0; }
  table.cards-narrow tr { display: grid; grid-template-columns: 1fr 1fr; column-gap: 16px;
    border: 1px solid var(--line); border-radius: 8px; margin: 0 0 10px; padding: 4px 10px; }
  table.cards-narrow td:not(.n), table.cards-narrow td[data-money] { grid-column: 1 / -1; }
  table.cards-narrow tr[aria-current] { background: var(--mark); }
  table.cards-narrow td { display: flex; justify-content: space-between; gap: 12px; border: 0; padding: 3px 0;
    max-width: none; text-align: right; min-width: 0; }
  table.cards-narrow td::before { content: attr(data-label); color: var(--muted); font-size: 12px;
    text-align: left; flex: none; }
  table.cards-narrow td > * { min-width: 0; }
  table.cards-narrow td.manage { display: block; text-align: left; }
  table.cards-narrow td.manage::before { content: none; }
  table.cards-narrow td .money { display: inline; }
  table.cards-narrow td.n span.money + span.money::before { content: " · "; }
}
`;

let hash: Promise<string> | undefined;

/** `'sha256-…'`: the CSP source that allows exactly {@link STYLE}. */
export function styleHashSource(): Promise<string> {
  hash ??= crypto.subtle
    .digest("SHA-256", new TextEncoder().encode(STYLE))
    .then((digest) => `'sha256-${toBase64(digest)}'`);
  return hash;
}
