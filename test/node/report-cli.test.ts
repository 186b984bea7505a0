/**
 * `npm run report` (scripts/report.mjs) against a throwaway local D1: a clear message before the
 * migrations, then the known dataset's numbers as a table and as JSON, with and without a period.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATASET_SQL,
  EXPECTED_LINKS,
  EXPECTED_LINKS_NARROW,
  HOSTILE,
  NARROW_PERIOD,
} from "../support/report-dataset.ts";

const execFileAsync = promisify(execFile);
const ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [file, ...args], { env: ENV });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const report = (...args: string[]) => run("scripts/report.mjs", args);
const wrangler = (...args: string[]) => run("node_modules/wrangler/bin/wrangler.js", args);

let persist = "";

beforeAll(async () => {
  persist = await mkdtemp(join(tmpdir(), "reflinks-report-"));
});

afterAll(async () => {
  if (persist) await rm(persist, { recursive: true, force: true });
});

describe("before anything runs", () => {
  it("--help prints the usage", async () => {
    const help = await report("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run report/);
    expect(help.stdout).toContain("--remote");
  });

  it.each([
    [["--from", "2025-02-30"], /--from must be a date written YYYY-MM-DD/],
    [["--to", "tomorrow"], /--to must be a date/],
    [["--from", "2025-06-02", "--to", "2025-06-01"], /--to must not be before --from/],
    [["--remote", "--local"], /not both/],
    [["--remote", "--persist-to", "x"], /local database only/],
    [["--verbose"], /Unknown option '--verbose'/],
  ])("%j: usage error (exit 2)", async (args, message) => {
    const result = await report(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });
});

describe("a local database", () => {
  it("not migrated: says so and how to migrate it (exit 1)", async () => {
    const result = await report("--persist-to", persist);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("The local database is not migrated");
    expect(result.stderr).toContain(`npx wrangler d1 migrations apply DB --local --persist-to ${persist}`);
  });

  describe("migrated, with the known dataset", () => {
    beforeAll(async () => {
      const migrate = await wrangler("d1", "migrations", "apply", "DB", "--local", "--persist-to", persist);
      expect(migrate.code, migrate.stderr).toBe(0);
      const seed = await wrangler(
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "--command",
        DATASET_SQL.join(";\n"),
      );
      expect(seed.code, seed.stderr).toBe(0);
    }, 120_000);

    it("--json: the rows of GET /reports/links, that is of link_stats", async () => {
      const result = await report("--json", "--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ rows: EXPECTED_LINKS });
    });

    it("--json over a period: that period's numbers", async () => {
      const result = await report(
        "--json",
        "--persist-to",
        persist,
        "--from",
        NARROW_PERIOD.from,
        "--to",
        NARROW_PERIOD.to,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ rows: EXPECTED_LINKS_NARROW });
    });

    it("a readable table: aligned columns, most hits first, totals below", async () => {
      const result = await report("--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.split("\n");
      expect(lines[0]).toBe("reflinks link report · local database · all time (the link_stats view)");
      const header = lines.findIndex((line) => line.startsWith("link "));
      expect(lines[header]).toMatch(/^link\s+owner\s+hits\s+visitors\s+users\s+confirmed\s+conversion$/);
      expect(lines[header + 1]).toMatch(/^-+( +-+){6}$/);
      const body = lines.slice(header + 2, header + 6);
      expect(body.map((line) => line.split(/\s{2,}/)[0])).toEqual(
        EXPECTED_LINKS.map((row) => row.identifier),
      );
      expect(body[0]).toMatch(/^rep-alpha\s+alice\s+8\s+5\s+2\s+2\s+40\.0%$/);
      expect(body[3]).toMatch(/^rep-idle\s+—\s+0\s+0\s+0\s+0\s+—$/);
      // Every line of the table is as wide as its header: the numbers are right-aligned.
      for (const line of body) expect(line.length).toBe(lines[header]?.length);
      expect(result.stdout).toContain("4 links · 12 hits · 3 confirmed referrals.");
      expect(result.stdout).toContain(HOSTILE.owner); // text in a terminal is harmless: no escape sequence
    });

    it("every ready-to-paste query of docs/reports.md runs (here on the local database)", async () => {
      const docs = await readFile("docs/reports.md", "utf8");
      const commands = [...docs.matchAll(/^npx wrangler d1 execute DB --remote --command "(.+)"$/gm)].map(
        (match) => match[1] ?? "",
      );
      expect(commands.length).toBeGreaterThanOrEqual(9);
      const result = await wrangler(
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "--json",
        "--command",
        commands.join(";\n"),
      );
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const outputs = JSON.parse(result.stdout.slice(result.stdout.indexOf("["))) as { success: boolean }[];
      expect(outputs).toHaveLength(commands.length);
      expect(outputs.every((output) => output.success)).toBe(true);
    });

    it("stored text cannot drive the terminal: control characters are replaced", async () => {
      const add = await wrangler(
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "--command",
        "INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES " +
          "('rep-escape', 'evil' || char(27) || '[2J' || char(7), 0, '2025-05-01T00:00:00.000Z', '2025-05-01T00:00:00.000Z')",
      );
      expect(add.code, add.stderr).toBe(0);
      const result = await report("--persist-to", persist);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain("\u001b");
      expect(result.stdout).not.toContain("\u0007");
      expect(result.stdout).toContain("evil�[2J�");
      const json = await report("--json", "--persist-to", persist);
      // JSON keeps the value exactly (escaped by JSON itself), for scripts.
      const stored = JSON.parse(json.stdout).rows.find(
        (row: { identifier: string }) => row.identifier === "rep-escape",
      );
      expect(stored.user_id).toBe("evil\u001b[2J\u0007");
    });
  });
});
