/**
 * `npm run report` (scripts/report.mjs) against a throwaway local D1: a clear message before the
 * migrations, then the known dataset's numbers (links, revenue per link and currency, earnings per
 * referrer and currency) as tables and as JSON, with and without a period.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WRANGLER, wranglerEnv } from "../../scripts/lib/wrangler.mjs";
import {
  CROSS_CURRENCY_SUMS,
  DATASET_SQL,
  EXPECTED_DUE,
  EXPECTED_EARNINGS,
  EXPECTED_EARNINGS_TOTALS,
  EXPECTED_LINKS,
  EXPECTED_LINKS_NARROW,
  EXPECTED_REVENUE,
  EXPECTED_REVENUE_NARROW,
  HOSTILE,
  NARROW_PERIOD,
  showsAmount,
} from "../support/report-dataset.ts";

const execFileAsync = promisify(execFile);
const ENV = wranglerEnv({ CI: "true" });

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
const wrangler = (...args: string[]) => run(WRANGLER, args);

let persist = "";
let beforeMoney = "";

beforeAll(async () => {
  persist = await mkdtemp(join(tmpdir(), "reflinks-report-"));
  beforeMoney = await mkdtemp(join(tmpdir(), "reflinks-report-old-"));
});

afterAll(async () => {
  for (const dir of [persist, beforeMoney]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** The lines of one section of the table output: from its title to the next blank line after its table. */
function section(stdout: string, title: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith(title));
  expect(start, `no section "${title}" in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const header = start + 2;
  const end = lines.findIndex((line, at) => at > header && line === "");
  return lines.slice(header, end === -1 ? undefined : end);
}

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

  it("migrated before the money tables: says which is missing, and how to migrate (exit 1)", async () => {
    const migrations = (await readdir("drizzle")).filter((file) => file.endsWith(".sql")).sort();
    const early = migrations.slice(0, migrations.indexOf("0003_money.sql"));
    expect(early).toEqual(["0000_init.sql", "0001_reports.sql", "0002_users.sql"]);
    const sql = (await Promise.all(early.map((file) => readFile(join("drizzle", file), "utf8")))).join(";\n");
    const old = await wrangler(
      "d1",
      "execute",
      "DB",
      "--local",
      "--persist-to",
      beforeMoney,
      "--command",
      sql.replaceAll("--> statement-breakpoint", ""),
    );
    expect(old.code, old.stderr).toBe(0);
    const result = await report("--persist-to", beforeMoney);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /The local database is not migrated: (it has no (link_revenue|conversions) yet|its views have no unique_hits yet)/,
    );
    expect(result.stderr).toContain(
      `npx wrangler d1 migrations apply DB --local --persist-to ${beforeMoney}`,
    );
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

    it("--json: the rows of GET /reports/links, /reports/revenue and /reports/earnings, that is of the views", async () => {
      const result = await report("--json", "--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        rows: EXPECTED_LINKS,
        revenue: EXPECTED_REVENUE,
        earnings: EXPECTED_EARNINGS,
      });
    });

    it("npm run --silent report -- --json, as its help says: JSON alone on stdout, ready for jq", async () => {
      let stdout = "";
      try {
        ({ stdout } = await execFileAsync(
          "npm",
          ["run", "--silent", "report", "--", "--json", "--persist-to", persist],
          { env: ENV },
        ));
      } catch (error) {
        throw new Error(`npm run --silent report failed: ${(error as { stderr?: string }).stderr}`);
      }
      expect(JSON.parse(stdout).rows).toEqual(EXPECTED_LINKS);
      const help = await report("--help");
      expect(help.stdout).toContain("npm run --silent report -- --json | jq");
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
      // Earnings are as of now, whatever the period.
      expect(JSON.parse(result.stdout)).toEqual({
        rows: EXPECTED_LINKS_NARROW,
        revenue: EXPECTED_REVENUE_NARROW,
        earnings: EXPECTED_EARNINGS,
      });
    });

    it("a readable table: aligned columns, most hits first, totals below", async () => {
      const result = await report("--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.split("\n");
      expect(lines[0]).toBe("reflinks link report · local database · all time (the link_stats view)");
      const header = lines.findIndex((line) => line.startsWith("link "));
      expect(lines[header]).toMatch(
        /^link\s+owner\s+hits\s+unique\s+visitors\s+users\s+confirmed\s+conversion$/,
      );
      expect(lines[header + 1]).toMatch(/^-+( +-+){7}$/);
      const body = lines.slice(header + 2, header + 6);
      expect(body.map((line) => line.split(/\s{2,}/)[0])).toEqual(
        EXPECTED_LINKS.map((row) => row.identifier),
      );
      expect(body[0]).toMatch(/^rep-alpha\s+alice\s+8\s+7\s+5\s+2\s+2\s+40\.0%$/);
      expect(body[3]).toMatch(/^rep-idle\s+—\s+0\s+0\s+0\s+0\s+0\s+—$/);
      // Every line of the table is as wide as its header: the numbers are right-aligned.
      for (const line of body) expect(line.length).toBe(lines[header]?.length);
      expect(result.stdout).toContain("4 links · 12 hits (11 unique) · 3 confirmed referrals.");
      expect(result.stdout).toContain(HOSTILE.owner); // text in a terminal is harmless: no escape sequence
    });

    it("revenue per link and currency: a line per currency, amounts in the currency's unit", async () => {
      const result = await report("--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      const table = section(result.stdout, "Revenue per link and currency");
      expect(table[0]).toMatch(/^link\s+currency\s+conversions\s+revenue\s+commission$/);
      expect(table[1]).toMatch(/^-+( +-+){4}$/);
      const body = table.slice(2);
      expect(body.map((line) => line.split(/\s+/))).toEqual([
        ["rep-alpha", "EUR", "3", "160.00", "16.00"],
        ["rep-alpha", "USD", "3", "105.00", "10.50"],
        ["rep-beta", "EUR", "2", "37.00", "9.00"],
      ]);
      for (const line of body) expect(line.length).toBe(table[0]?.length);
      // Totals per currency, never one across them.
      expect(result.stdout).toContain(
        "All links: EUR 197.00 revenue, 25.00 commission · USD 105.00 revenue, 10.50 commission.",
      );
      for (const amount of CROSS_CURRENCY_SUMS)
        expect(showsAmount(result.stdout, amount), amount).toBe(false);
    });

    it("earnings per referrer and currency: pending, approved, paid, reversed and due", async () => {
      const result = await report("--persist-to", persist);
      expect(result.code, result.stderr).toBe(0);
      const table = section(result.stdout, "Earnings per referrer and currency");
      expect(table[0]).toMatch(/^referrer\s+currency\s+pending\s+approved\s+paid\s+reversed\s+due$/);
      const body = table.slice(2);
      expect(body.slice(0, 3).map((line) => line.split(/\s+/))).toEqual([
        ["alice", "EUR", "3.00", "13.00", "0.00", "2.00", "13.00"],
        ["alice", "USD", "0.00", "4.50", "7.00", "3.00", "3.50"],
        ["bob", "EUR", "4.50", "0.00", "4.50", "0.00", "0.00"],
      ]);
      // The deleted link's referrer, shortened to the column and harmless in a terminal.
      expect(body[3]).toMatch(/^zed<b onmouseover=alert\("referr… +EUR +0\.00 +8\.00 +0\.00 +0\.00 +8\.00$/);
      expect(body).toHaveLength(4);
      expect(result.stdout).toContain("Due now, all referrers: EUR 21.00 · USD 3.50.");
    });

    it("over a period: revenue of the conversions made in it; earnings still as of now", async () => {
      const result = await report(
        "--persist-to",
        persist,
        "--from",
        NARROW_PERIOD.from,
        "--to",
        NARROW_PERIOD.to,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("Revenue per link and currency · conversions made in the period");
      expect(
        section(result.stdout, "Revenue per link and currency")
          .slice(2)
          .map((line) => line.split(/\s+/)),
      ).toEqual([
        ["rep-alpha", "USD", "1", "60.00", "6.00"],
        ["rep-beta", "EUR", "1", "25.00", "4.50"],
      ]);
      expect(section(result.stdout, "Earnings per referrer and currency").slice(2)).toHaveLength(4);
    });

    it("every ready-to-paste query of docs/reports.md runs (here on the local database)", async () => {
      const docs = await readFile("docs/reports.md", "utf8");
      const commands = [...docs.matchAll(/^npx wrangler d1 execute DB --remote --command "(.+)"$/gm)].map(
        (match) => match[1] ?? "",
      );
      expect(commands.length).toBeGreaterThanOrEqual(13);
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
      const outputs = JSON.parse(result.stdout.slice(result.stdout.indexOf("["))) as {
        success: boolean;
        results: Record<string, unknown>[];
      }[];
      expect(outputs).toHaveLength(commands.length);
      expect(outputs.every((output) => output.success)).toBe(true);

      // The money queries answer the dataset's numbers, worked out by hand.
      const answer = (start: string) => {
        const index = commands.findIndex((command) => command.startsWith(start));
        expect(index, start).toBeGreaterThanOrEqual(0);
        return outputs[index]?.results;
      };
      expect(
        answer("SELECT identifier, currency, conversions, revenue, commission FROM link_revenue"),
      ).toEqual(EXPECTED_REVENUE);
      expect(answer("SELECT referrer_user_id, currency, pending, approved, paid, reversed FROM")).toEqual(
        EXPECTED_EARNINGS.map(({ due: _, ...row }) => row),
      );
      expect(answer("SELECT referrer_user_id, currency, SUM(amount) AS due, SUM(conversions)")).toEqual(
        EXPECTED_DUE.map(({ amount, ...row }) => ({ ...row, due: amount })).map(
          ({ referrer_user_id, currency, due, conversions, clawbacks }) => ({
            referrer_user_id,
            currency,
            due,
            conversions,
            clawbacks,
          }),
        ),
      );
      expect(answer("SELECT currency, SUM(due) AS due FROM")).toEqual(
        EXPECTED_EARNINGS_TOTALS.map(({ currency, due }) => ({ currency, due })),
      );
      expect(answer("SELECT c.referrer_user_id, c.currency, c.external_id, r.reversal_id")).toEqual([
        {
          referrer_user_id: "alice",
          currency: "USD",
          external_id: "rep-c5",
          reversal_id: "rep-r5",
          clawback: 100,
          created_at: "2025-06-10T09:00:00.000Z",
        },
      ]);
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
