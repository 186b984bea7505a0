/**
 * The page's one stylesheet and one script, inline and allowed by the Content-Security-Policy
 * through their SHA-256 hashes (CSP Level 2 hash-source): nothing else may style or run. The
 * script only shows each link's copy button and copies on click; without it the page is whole
 * (the URL is there to select).
 */
import { toBase64 } from "../../lib/base64";
export const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6678; --bg: #f6f7f9; --card: #fff;
  --line: #dfe3ea; --accent: #2f6fde; --ok: #1f7a3a; --bad: #b42318; --ok-bg: #e8f6ec; --bad-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b5; --bg: #14171d;
  --card: #1c2029; --line: #2d3340; --accent: #6b9cff; --ok: #6fd08c; --bad: #ff8a80;
  --ok-bg: #15301f; --bad-bg: #3a1a18; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main { max-width: 960px; margin: 0 auto; padding: 16px 20px; }
h1 { font-size: 22px; margin: 0; } h2 { font-size: 18px; margin: 0 0 12px; }
a { color: var(--accent); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px;
  margin: 0 0 16px; min-width: 0; }
.flash { border-radius: 10px; padding: 10px 14px; margin: 0 0 16px; border: 1px solid; }
.flash[data-flash=done] { background: var(--ok-bg); color: var(--ok); }
.flash[data-flash=failed] { background: var(--bad-bg); color: var(--bad); }
.link { display: grid; grid-template-columns: 1fr 160px; gap: 16px; border-top: 1px solid var(--line); padding: 16px 0 0; margin: 16px 0 0; }
.link:first-of-type { border-top: 0; margin-top: 0; padding-top: 0; }
.url { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.url code { overflow-wrap: anywhere; font-size: 15px; }
.qr svg { width: 160px; height: 160px; display: block; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(110px, 1fr)); gap: 8px; margin: 12px 0 0; }
dl.stats div { min-width: 0; } dt { font-size: 13px; color: var(--muted); } dd { margin: 0; font-size: 20px; font-weight: 600; }
.money { display: block; white-space: nowrap; font-variant-numeric: tabular-nums; }
dd .money { font-size: 16px; }
.note { color: var(--muted); font-size: 14px; margin: 8px 0 0; }
.badge { font-size: 13px; border: 1px solid var(--bad); color: var(--bad); border-radius: 999px; padding: 0 8px; }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 0; }
label { display: grid; gap: 2px; font-size: 14px; color: var(--muted); }
input, select, button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); min-width: 0; max-width: 100%; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
table { border-collapse: collapse; width: 100%; font-size: 15px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 13px; color: var(--muted); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; max-width: 100%; }
@media (max-width: 640px) {
  header, main { padding: 12px; } section { padding: 12px; }
  .link { grid-template-columns: 1fr; }
  .qr svg { width: 140px; height: 140px; }
}
`;

export const SCRIPT =
  'for(const b of document.querySelectorAll("button[data-copy]")){b.hidden=false;' +
  'b.addEventListener("click",()=>navigator.clipboard.writeText(b.dataset.copy).then(' +
  '()=>{b.textContent="Copied"},()=>{b.textContent="Select the link to copy it"}))}';

const hashes = new Map<string, Promise<string>>();

/** `'sha256-…'`: the CSP source that allows exactly `text`. */
export function hashSource(text: string): Promise<string> {
  let hash = hashes.get(text);
  if (!hash) {
    hash = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(text))
      .then((digest) => `'sha256-${toBase64(digest)}'`);
    hashes.set(text, hash);
  }
  return hash;
}
