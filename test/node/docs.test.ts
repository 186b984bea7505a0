/**
 * The docs are the contract (README.md, SECURITY.md, docs/), and they live in the repository: no
 * file may point at a document a clone does not have, code comments cite docs/ rather than the
 * old out-of-repo spec, and every relative Markdown link leads to a tracked file and, for an
 * `#anchor` into a Markdown file, to one of its headings (GitHub's slugs).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Tracked files (staged new ones included), repository-relative with "/", outside node_modules. */
const TRACKED = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
  .split("\0")
  .filter((file) => file !== "" && !/(^|\/)node_modules\//.test(file));
const TRACKED_SET = new Set(TRACKED);

/** Markdown files whose links are checked. */
const DOCS = [
  "README.md",
  "SECURITY.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

// Spelled in pieces so that this file does not match itself.
const OUTSIDE_REPO = [`shared/${"SPEC"}`, `../${"shared"}`];

function read(file: string): string | null {
  const path = join(ROOT, file);
  if (!existsSync(path)) return null; // deleted in the working tree, not yet committed
  const bytes = readFileSync(path);
  if (bytes.includes(0)) return null; // binary
  return bytes.toString("utf8");
}

/** `file:line: text` for every line of `text` that `test` accepts. */
function linesMatching(file: string, text: string, test: (line: string) => boolean): string[] {
  return text
    .split("\n")
    .flatMap((line, index) => (test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : []));
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The text outside fenced code blocks and inline code spans, line numbers kept. */
function prose(markdown: string): string {
  let fence: string | null = null;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence !== null) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
        return "";
      }
      if (marker) {
        fence = marker;
        return "";
      }
      return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, "");
    })
    .join("\n");
}

/** GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML
    .replace(/`/g, "");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown file defines: its headings' slugs (repeats numbered) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<[a-z]+\s[^>]*\b(?:id|name)="([^"]+)"/gi)) {
      if (match[1]) anchors.add(match[1]);
    }
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[text](target)`, and reference definitions `[name]: target`. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  prose(markdown)
    .split("\n")
    .forEach((line, index) => {
      for (const match of line.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ line: index + 1, target: (match[1] ?? "").replace(/^<|>$/g, "") });
      }
      const definition = /^\s{0,3}\[[^\]]+\]:\s*(\S+)/.exec(line)?.[1];
      if (definition) links.push({ line: index + 1, target: definition.replace(/^<|>$/g, "") });
    });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");

/** What is wrong with a relative link from `file`, or null. */
function brokenLink(file: string, target: string): string | null {
  const hashAt = target.indexOf("#");
  const rawPath = hashAt === -1 ? target : target.slice(0, hashAt);
  const anchor = hashAt === -1 ? null : decodeURIComponent(target.slice(hashAt + 1));
  const path = decodeURIComponent(rawPath.split("?")[0] ?? "");
  const resolved = path === "" ? file : posix.normalize(posix.join(posix.dirname(file), path));
  const inRepo = relative(ROOT, resolve(ROOT, resolved));
  if (inRepo.startsWith("..") || inRepo.startsWith(sep)) return "points outside the repository";
  const asFile = resolved.replace(/\/$/, "");
  const isTrackedFile = TRACKED_SET.has(asFile);
  const isTrackedDir = TRACKED.some((tracked) => tracked.startsWith(`${asFile}/`));
  if (!isTrackedFile && !isTrackedDir) return `${resolved} is not a file of the repository`;
  if (anchor === null || anchor === "" || !asFile.endsWith(".md")) return null;
  const text = read(asFile);
  if (text === null) return `${resolved} cannot be read`;
  return anchorsOf(text).has(anchor) ? null : `${resolved} has no heading #${anchor}`;
}

describe("the docs live in the repository", () => {
  it("no tracked file points at the shared folder outside the repository", () => {
    const mentions = TRACKED.flatMap((file) => {
      const text = read(file);
      if (text === null || !OUTSIDE_REPO.some((needle) => text.includes(needle))) return [];
      return linesMatching(file, text, (line) => OUTSIDE_REPO.some((needle) => line.includes(needle)));
    });
    expect(mentions).toEqual([]);
  });

  it("no source comment in src/ cites SPEC: code cites docs/ instead", () => {
    const citations = filesUnder("src").flatMap((file) => {
      const text = read(file);
      return text === null ? [] : linesMatching(file, text, (line) => /\bSPEC\b/.test(line));
    });
    expect(citations).toEqual([]);
  });
});

describe("citations of the docs in code", () => {
  // Comments in code, scripts, the bench and the tests cite docs/<page>.md#<anchor> and
  // README.md#<anchor>; each must lead to a tracked page and one of its headings.
  const CODE = TRACKED.filter(
    (file) =>
      /^(src|scripts|bench|test|\.ci)\//.test(file) ||
      file === "wrangler.toml" ||
      file === "vitest.config.ts",
  );

  it.each(["docs", "README.md"])("every %s citation in code exists", (kind) => {
    const pattern = kind === "docs" ? /\bdocs\/[\w.-]+\.md(?:#[\w-]+)?/g : /\bREADME\.md#[\w-]+/g;
    const broken = CODE.flatMap((file) => {
      const text = read(file) ?? "";
      return [...text.matchAll(pattern)].flatMap(([citation]) => {
        const problem = brokenLink("README.md", citation);
        return problem ? [`${file}: ${citation}: ${problem}`] : [];
      });
    });
    expect(broken).toEqual([]);
  });
});

describe("the settings, in every place that lists them", () => {
  // The variables the worker reads (the keys of src/config.ts's schema, which ConfigVariable and
  // AppBindings derive from) against the table users read, docs/configuration.md's (a row may name
  // several); the README links there.
  const source = read("src/config.ts") ?? "";
  const schema = /\nconst schema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1] ?? "";
  const variables = [...schema.matchAll(/^ {2}([A-Z][A-Z_]+):/gm)].map((match) => match[1] ?? "");

  it("src/config.ts names its variables", () => {
    expect(variables).toContain("ORIGIN_URL");
    expect(variables).toContain("PAYOUT_MINIMUM");
    expect(variables).toContain("WEBHOOK_TIMEOUT_MS");
    expect(variables.length).toBeGreaterThan(30);
  });

  it("docs/configuration.md has a table row naming every variable", () => {
    const rows = (read("docs/configuration.md") ?? "").split("\n").filter((line) => line.startsWith("| `"));
    const missing = variables.filter(
      (variable) => !rows.some((row) => (row.split("|")[1] ?? "").includes(`\`${variable}\``)),
    );
    expect(missing).toEqual([]);
  });
});

describe("relative Markdown links", () => {
  it.each(DOCS)("every relative link in %s leads to a tracked file and an existing heading", (file) => {
    const text = read(file);
    expect(text, `${file} is missing`).not.toBeNull();
    const broken = linksOf(text ?? "").flatMap(({ line, target }) => {
      if (isExternal(target)) return [];
      const problem = brokenLink(file, target);
      return problem ? [`${file}:${line}: (${target}) ${problem}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    expect(slug("1. Report logins (pick one)")).toBe("1-report-logins-pick-one");
    expect(slug("Scaling: hit writes, the queue, and reads")).toBe("scaling-hit-writes-the-queue-and-reads");
    expect(slug("`reflinks_users`")).toBe("reflinks_users");
    expect(slug("Dependencies, and why each is here")).toBe("dependencies-and-why-each-is-here");
    expect(slug("Personal data (GDPR)")).toBe("personal-data-gdpr");
    expect(slug("What records a hit")).toBe("what-records-a-hit");
    expect([...anchorsOf("## Links\n```\n## Not a heading\n```\n## Links\n")]).toEqual(["links", "links-1"]);
  });
});

describe("docs/scaling.md's batch arithmetic follows the code", () => {
  it("parameters per hit, hit rows per statement and statements per 100 hits", () => {
    const hits = read("src/db/queries/hits.ts") ?? "";
    const scaling = read("docs/scaling.md") ?? "";
    const perHit = Number(/const PARAMS_PER_HIT = (\d+);/.exec(hits)?.[1]);
    expect(perHit).toBeGreaterThan(0);
    const rows = Math.floor(100 / perHit);
    const statements = Math.ceil(100 / rows);
    const prose = scaling.replace(/\s+/g, " ");
    expect(prose).toContain(`one D1 batch of ${statements} statements (a hit binds ${perHit} parameters`);
    expect(prose).toContain(`limit allows ${rows} hit rows per statement`);
  });
});

describe("docs/routing.md's log catalogue follows the code", () => {
  // Every `log(level, "event", …)` in src/, and the events of `withRetries(…, { event: "…" })`,
  // which logs them itself (src/lib/retry.ts).
  const logged = new Set(
    filesUnder("src").flatMap((file) => {
      const text = read(file) ?? "";
      return [
        ...[...text.matchAll(/\blog\(\s*[^,()]+,\s*"([a-z_]+)"/g)].map((match) => match[1] ?? ""),
        ...[...text.matchAll(/\bwithRetries\([^;]*?\bevent:\s*"([a-z_]+)"/g)].map((match) => match[1] ?? ""),
      ];
    }),
  );
  const routing = read("docs/routing.md") ?? "";
  const catalogue = routing.slice(routing.indexOf("## Request ids and logs"));
  const rows = catalogue.split("\n").filter((line) => line.startsWith("| `"));
  const listed = new Set(
    rows.flatMap((row) =>
      [...(row.split("|")[1] ?? "").matchAll(/`([a-z_]+)`/g)].map((match) => match[1] ?? ""),
    ),
  );

  it("finds the events", () => {
    expect(logged).toContain("hit_write_failed");
    expect(logged).toContain("request_failed");
    expect(listed.size).toBeGreaterThan(20);
  });

  it("every event the code logs has a row", () => {
    expect([...logged].filter((event) => !listed.has(event)).sort()).toEqual([]);
  });

  it("every row names an event the code logs", () => {
    expect([...listed].filter((event) => !logged.has(event)).sort()).toEqual([]);
  });
});

describe("README's table of the docs", () => {
  it("links every page of docs/", () => {
    const readme = read("README.md") ?? "";
    const pages = DOCS.filter((file) => file.startsWith("docs/"));
    expect(pages.filter((page) => !readme.includes(`](${page})`))).toEqual([]);
  });
});

describe("files the docs name", () => {
  it("exist: every src/, test/ and scripts/ path that README, SECURITY, CONTRIBUTING and docs/ cite", () => {
    const pages = [
      "README.md",
      "SECURITY.md",
      "CONTRIBUTING.md",
      ...readdirSync("docs").map((f) => `docs/${f}`),
    ];
    const missing = pages
      .filter((page) => page.endsWith(".md"))
      .flatMap((page) =>
        [
          ...readFileSync(page, "utf8").matchAll(
            /\b(?:test|src|scripts)\/[A-Za-z0-9/._-]+\.(?:tsx?|mjs|js|py)\b/g,
          ),
        ]
          .map(([path]) => path)
          .filter((path) => !existsSync(path))
          .map((path) => `${page}: ${path}`),
      );
    expect(missing).toEqual([]);
  });
});
