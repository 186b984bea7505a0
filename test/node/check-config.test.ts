/**
 * scripts/check-config.mjs, which `npm run deploy` runs first: the vars `wrangler deploy` would
 * upload, checked with the worker's own parseConfig. Temp wrangler configs; the check in-process
 * (scripts/lib/check-config.mjs: what the command prints and its exit code), the command itself as
 * a child process where the process matters (the current directory, CLOUDFLARE_ENV, the output
 * streams); and the real predeploy/deploy chain in a temp project whose `wrangler` binary is a fake
 * that only prints its arguments, so that nothing here can ever reach Cloudflare.
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConfig } from "../../scripts/lib/check-config.mjs";

const execFileAsync = promisify(execFile);
const ROOT = resolve(".");
const SCRIPT = join(ROOT, "scripts", "check-config.mjs");
const FAKE_WRANGLER = "FAKE WRANGLER RAN:";

const { CLOUDFLARE_ENV: _ignored, ...inherited } = process.env;
const ENV: NodeJS.ProcessEnv = {
  ...inherited,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
  NO_COLOR: "1",
  npm_config_update_notifier: "false",
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...ENV, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The command, as a child process (in ROOT unless `cwd`). */
const command = (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) =>
  run(process.execPath, [SCRIPT, ...args], options);
/** The same check in this process (run in ROOT, as the command is): what it prints, and its exit code. */
const check = (args: string[]): Promise<Run> => checkConfig(args);

/** The committed database_id, and one as `wrangler d1 create` prints it. */
const PLACEHOLDER_LINE = 'database_id = "00000000-0000-0000-0000-000000000000"';
const REAL_ID_LINE = 'database_id = "0f3a8e52-6c1b-4d7e-9a2f-5b8c4d1e7a90"';

let scratch = "";
let committed = "";
let counter = 0;

/**
 * The committed wrangler.toml as an owner has it after deploy step 1 (a database id of their own),
 * with `from` replaced by `to` (which must be there), in its own dir.
 */
async function configWith(from: string, to: string, extra = ""): Promise<string> {
  expect(committed).toContain(from);
  const dir = join(scratch, `config-${++counter}`);
  await mkdir(dir);
  const file = join(dir, "wrangler.toml");
  await writeFile(file, `${committed.replace(PLACEHOLDER_LINE, REAL_ID_LINE).replace(from, to)}${extra}`);
  return file;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "reflinks-check-config-"));
  committed = await readFile(join(ROOT, "wrangler.toml"), "utf8");
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("scripts/check-config.mjs", () => {
  it("the committed wrangler.toml, found as wrangler finds it: its vars pass, its placeholder database_id stops the deploy", async () => {
    const placeholder = await command([]);
    expect(placeholder.code).toBe(1);
    expect(placeholder.stderr.trim()).toBe(
      "✖ the D1 database DB in wrangler.toml has the placeholder database_id: run `npx wrangler d1 create reflinks` and put the id it prints there. Nothing was migrated or deployed.",
    );
    const file = await configWith("", "");
    const ok = await command(["--config", file]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^✔ config ok: .*\[vars\] of .*wrangler\.toml/);
    // In-process, the same words.
    expect(await check(["--config", file])).toEqual(ok);
  });

  it("reads the wrangler.toml of the current directory when no --config is given", async () => {
    const file = await configWith('ATTRIBUTION = "last"', 'ATTRIBUTION = "middle"');
    const bad = await command([], { cwd: resolve(file, "..") });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ATTRIBUTION must be first or last \(in \[vars\] of wrangler\.toml\)/);
  });

  it('ATTRIBUTION = "middle" fails with one line naming ATTRIBUTION and the file', async () => {
    const file = await configWith('ATTRIBUTION = "last"', 'ATTRIBUTION = "middle"');
    const bad = await check(["--config", file]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.trim().split("\n")).toEqual([
      `✖ reflinks is misconfigured: ATTRIBUTION must be first or last (in [vars] of ${file}). Nothing was migrated or deployed.`,
    ]);
  });

  it('REF_PATH = "ref" (no slashes) fails naming REF_PATH', async () => {
    const file = await configWith('REF_PATH = "/ref/"', 'REF_PATH = "ref"');
    const bad = await check(["-c", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('reflinks is misconfigured: REF_PATH must start and end with "/"');
    expect(bad.stderr).toContain(file);
  });

  it.each([
    ['DEDUPE_SECONDS = "3600"', 'DEDUPE_SECONDS = "1h"', "DEDUPE_SECONDS must be a whole number"],
    ['DEDUPE_SECONDS = "3600"', 'DEDUPE_SECONDS = "99999999999"', "DEDUPE_SECONDS must be at most 31536000"],
    ['CONSENT = "none"', 'CONSENT = "yes"', "CONSENT must be none, gpc, cookie:NAME or cookie:NAME=VALUE"],
    [
      'CONSENT = "none"',
      'CONSENT = "cookie:"',
      "CONSENT must be none, gpc, cookie:NAME or cookie:NAME=VALUE",
    ],
    ['CONSENT = "none"', 'CONSENT = "cookie:reflinks_rk"', "CONSENT must name the site's consent cookie"],
    ['RETENTION_DAYS = "0"', 'RETENTION_DAYS = "-30"', "RETENTION_DAYS must be a whole number"],
  ])("%s changed to %s fails naming the variable", async (from, to, message) => {
    const file = await configWith(from, to);
    const bad = await check(["-c", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`reflinks is misconfigured: ${message}`);
  });

  it.each([
    ['CONSENT = "none"', 'CONSENT = "gpc"'],
    ['CONSENT = "none"', 'CONSENT = "cookie:cookie_consent=accepted"'],
    ['DEDUPE_SECONDS = "3600"', 'DEDUPE_SECONDS = "0"'],
    ['RETENTION_DAYS = "0"', 'RETENTION_DAYS = "90"'],
  ])("%s changed to %s passes", async (from, to) => {
    const ok = await check(["-c", await configWith(from, to)]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
  });

  it("an unquoted number fails as it would in the worker, which receives a number", async () => {
    const file = await configWith('COOKIE_MAX_AGE = "31536000"', "COOKIE_MAX_AGE = 31536000");
    const bad = await check(["--config", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("COOKIE_MAX_AGE must be a string");
    expect(bad.stderr).toContain("write the value in quotes");
  });

  it("a bad var in [env.staging.vars] fails only when staging is deployed", async () => {
    const file = await configWith("", "", '\n[env.staging]\n[env.staging.vars]\nSTORE_IP = "partial"\n');
    const topLevel = await check(["--config", file]);
    expect(topLevel.code).toBe(0);
    expect(topLevel.stdout).toContain("config ok");

    for (const bad of [
      await check(["--config", file, "--env", "staging"]),
      // `CLOUDFLARE_ENV=staging npm run deploy` picks staging for all of wrangler's commands.
      await command(["--config", file], { env: { CLOUDFLARE_ENV: "staging" } }),
    ]) {
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("STORE_IP must be full, truncated or none (in [env.staging.vars] of");
    }
  });

  it("an --env the config does not define fails, as wrangler deploy would", async () => {
    const file = await configWith("", "", "\n[env.staging]\n");
    const bad = await check(["--config", file, "--env", "production"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('No environment found in configuration with name "production"');
  });

  it.each([
    ["API_TOKEN", "a-perfectly-good-token"],
    ["SIGNING_SECRET", "0123456789abcdef0123456789abcdef0123"],
  ])(
    "%s in [vars] fails, even with a valid value: secrets go through wrangler secret put",
    async (name, value) => {
      const file = await configWith('ALLOWED_REDIRECT_HOSTS = ""', `${name} = "${value}"`);
      const bad = await check(["--config", file]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`${name} is a secret and must not be in [vars] of ${file}`);
      expect(bad.stderr).toContain(`wrangler secret put ${name}`);
      expect(bad.stderr).not.toContain(value);
    },
  );

  it("a config file that is not there fails", async () => {
    const bad = await check(["--config", join(scratch, "missing.toml")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^✖ cannot read the wrangler config/);
  });
});

describe("npm run deploy", () => {
  let project = "";

  /**
   * A project with this repo's predeploy and deploy scripts, check-config.mjs and src/, whose
   * node_modules are this repo's except for .bin/wrangler: a fake that prints its arguments.
   */
  beforeAll(async () => {
    project = join(scratch, "project");
    const { scripts } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    await mkdir(join(project, "scripts"), { recursive: true });
    await mkdir(join(project, "node_modules", ".bin"), { recursive: true });
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({
        name: "reflinks-deploy-fixture",
        private: true,
        type: "module",
        scripts: { predeploy: scripts.predeploy, deploy: scripts.deploy },
      }),
    );
    await copyFile(SCRIPT, join(project, "scripts", "check-config.mjs"));
    await symlink(join(ROOT, "scripts", "lib"), join(project, "scripts", "lib"), "dir");
    await symlink(join(ROOT, "src"), join(project, "src"), "dir");
    for (const entry of await readdir(join(ROOT, "node_modules"))) {
      if (entry !== ".bin")
        await symlink(join(ROOT, "node_modules", entry), join(project, "node_modules", entry));
    }
    const fake = join(project, "node_modules", ".bin", "wrangler");
    await writeFile(fake, `#!/bin/sh\necho "${FAKE_WRANGLER} $*"\n`);
    await chmod(fake, 0o755);
  });

  const deploy = (toml: string) =>
    writeFile(join(project, "wrangler.toml"), toml).then(() =>
      run("npm", ["run", "deploy"], { cwd: project }),
    );

  it("stops at the placeholder database_id, before wrangler runs anything", async () => {
    const placeholder = await deploy(committed);
    expect(placeholder.code).not.toBe(0);
    expect(placeholder.stderr).toContain(
      "has the placeholder database_id: run `npx wrangler d1 create reflinks`",
    );
    expect(`${placeholder.stdout}${placeholder.stderr}`).not.toContain(FAKE_WRANGLER);
  });

  it("stops at a bad var, naming it, before wrangler runs anything", async () => {
    const bad = await deploy(committed.replace('ATTRIBUTION = "last"', 'ATTRIBUTION = "middle"'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("ATTRIBUTION must be first or last (in [vars] of wrangler.toml)");
    expect(`${bad.stdout}${bad.stderr}`).not.toContain(FAKE_WRANGLER);
  });

  it("with good vars: the check, then the migrations, then the upload", async () => {
    const ok = await deploy(committed.replace(PLACEHOLDER_LINE, REAL_ID_LINE));
    expect(ok.code).toBe(0);
    const lines = ok.stdout.split("\n");
    const checked = lines.findIndex((line) => line.startsWith("✔ config ok"));
    const migrated = lines.indexOf(`${FAKE_WRANGLER} d1 migrations apply DB --remote`);
    const deployed = lines.indexOf(`${FAKE_WRANGLER} deploy`);
    expect(checked).toBeGreaterThanOrEqual(0);
    expect(migrated).toBeGreaterThan(checked);
    expect(deployed).toBeGreaterThan(migrated);
  });
});
