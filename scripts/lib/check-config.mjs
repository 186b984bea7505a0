// The check behind scripts/check-config.mjs (`npm run deploy` runs it first, the `predeploy`
// script, before any migration or upload): the `[vars]` that `wrangler deploy` would upload, checked
// with the worker's own rules (`parseConfig` in src/config.ts, bundled here in memory, not copied).
// A bad value stops the deploy with one line naming the variable, instead of a deployment that
// answers 500 to every request. A function returning what to print and the exit code, so that the
// tests can run it in-process as well as through the command.
//
// The vars are read by wrangler's own config reader, as `wrangler deploy` reads them: the same file
// discovery (wrangler.json, wrangler.jsonc or wrangler.toml), `--env NAME` or CLOUDFLARE_ENV picking
// `[env.NAME.vars]` (vars are not inherited from the top level), non-string values passed as they are.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { importWorkerModule } from "./import-worker-module.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER_CONFIG = path.join(ROOT, "src", "config.ts");
/** Set with `wrangler secret put`, never in plain text in the config file (docs/configuration.md#settings). */
const SECRETS = ["API_TOKEN", "SIGNING_SECRET"];

export const USAGE = `Usage: node scripts/check-config.mjs [options]

Checks the vars that \`wrangler deploy\` would upload with the worker's own rules (src/config.ts).
\`npm run deploy\` runs it first; it exits 1, naming the variable, before anything is migrated or deployed.

  -c, --config <path>  the wrangler config file (default: the one wrangler finds, ./wrangler.toml)
  -e, --env <name>     check [env.<name>.vars], as \`wrangler deploy --env <name>\` (default: CLOUDFLARE_ENV)
  --local              for \`wrangler dev\` (\`npm start\`): the D1 database needs no database_id of its own
  --var NAME:VALUE     a var as \`wrangler dev --var\` gives it, over the file's (repeatable)
  -h, --help           this help`;

/** What the command prints, and its exit code. */
function outcome(code, stdout, stderr) {
  return { code, stdout: stdout ? `${stdout}\n` : "", stderr: stderr ? `${stderr}\n` : "" };
}

/** A failed check: one line naming what is wrong. */
class CheckFailed extends Error {}
function fail(message) {
  throw new CheckFailed(`✖ ${message}`);
}

function displayPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

let workerRules;
/** src/config.ts and what it imports, bundled to one ES module (once) and imported without a file. */
async function loadWorkerRules() {
  workerRules ??= importWorkerModule(WORKER_CONFIG);
  const rules = await workerRules;
  if (typeof rules.parseConfig !== "function" || typeof rules.ConfigError !== "function") {
    fail(
      `${displayPath(WORKER_CONFIG)} no longer exports parseConfig and ConfigError: cannot check the config`,
    );
  }
  return rules;
}

/**
 * Checks the config as `node scripts/check-config.mjs <argv>` would, run in `process.cwd()`:
 * `{ code, stdout, stderr }`, what the command prints and its exit code (0 ok, 1 a failed check, 2
 * a usage error).
 */
export async function checkConfig(argv) {
  try {
    return await check(argv);
  } catch (error) {
    if (error instanceof CheckFailed) return outcome(1, "", error.message);
    throw error;
  }
}

async function check(argv) {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        env: { type: "string", short: "e" },
        local: { type: "boolean" },
        var: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return outcome(2, "", `✖ ${error.message}\n\n${USAGE}`);
  }
  if (args.help) return outcome(0, USAGE, "");

  /** What a failed check stopped: a deploy, or (`--local`) the local demo. */
  const NOTHING_DONE = args.local ? "Nothing was started." : "Nothing was migrated or deployed.";

  let config;
  try {
    // hideWarnings: `wrangler deploy` prints them itself (and, for unknown fields, would ask npm for
    // a newer wrangler: no network here).
    config = unstable_readConfig(
      { config: args.config, env: args.env },
      { hideWarnings: true, useRedirectIfAvailable: true },
    );
  } catch (error) {
    fail(`cannot read the wrangler config${args.config ? ` ${args.config}` : ""}: ${error.message}`);
  }
  if (!config.configPath) {
    fail(`no wrangler config found (wrangler.json, wrangler.jsonc or wrangler.toml) in ${process.cwd()}`);
  }

  const file = displayPath(config.configPath);
  const envName = config.targetEnvironment;
  // An --env missing from a config that defines none: wrangler deploys the top-level vars (and warns).
  const section =
    envName && config.definedEnvironments?.includes(envName) ? `[env.${envName}.vars]` : "[vars]";
  const where = `${section} of ${file}`;
  const vars = { ...config.vars };
  /** The vars that `--var` set, named as such in a failure. */
  const given = new Set();
  for (const pair of args.var ?? []) {
    const colon = pair.indexOf(":");
    if (colon < 1) fail(`--var must be NAME:VALUE, got "${pair}"`);
    vars[pair.slice(0, colon)] = pair.slice(colon + 1);
    given.add(pair.slice(0, colon));
  }

  for (const secret of SECRETS) {
    // `--var` is how `npm start` passes the demo's own token: local, never deployed.
    if (Object.hasOwn(config.vars ?? {}, secret)) {
      fail(
        `${secret} is a secret and must not be in ${where}: remove it there and run \`wrangler secret put ${secret}${envName ? ` --env ${envName}` : ""}\` instead. ${NOTHING_DONE}`,
      );
    }
  }

  const { parseConfig, ConfigError } = await loadWorkerRules();
  try {
    parseConfig(vars);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const value = vars[error.variable];
    // `COOKIE_MAX_AGE = 90` reaches the worker as the number 90, which the worker refuses too.
    const hint =
      value !== undefined && typeof value !== "string"
        ? `; it is a ${Array.isArray(value) ? "list" : typeof value} there: write the value in quotes`
        : "";
    const source = given.has(error.variable) ? "given with --var" : `in ${where}${hint}`;
    fail(`${error.message} (${source}). ${NOTHING_DONE}`);
  }

  // The committed wrangler.toml's placeholder: `wrangler d1 migrations apply --remote` would otherwise
  // wait a minute and a half at "Resource location: remote" before failing to find it.
  const PLACEHOLDER_ID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;
  for (const database of args.local ? [] : (config.d1_databases ?? [])) {
    if (!database.database_id || PLACEHOLDER_ID.test(database.database_id)) {
      fail(
        `the D1 database ${database.binding} in ${file} has ${database.database_id ? "the placeholder database_id" : "no database_id"}: run \`npx wrangler d1 create ${database.database_name ?? "reflinks"}\` and put the id it prints there. ${NOTHING_DONE}`,
      );
    }
  }

  const count = Object.keys(vars).length;
  return outcome(
    0,
    `✔ config ok: ${count} variable${count === 1 ? "" : "s"} in ${where} pass the worker's checks (secrets are not checked here)`,
    "",
  );
}
