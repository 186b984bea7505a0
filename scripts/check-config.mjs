// `npm run deploy` runs this first (the `predeploy` script), before any migration or upload: the
// `[vars]` that `wrangler deploy` would upload, checked with the worker's own rules. The check
// itself: scripts/lib/check-config.mjs. `node scripts/check-config.mjs --help` for the options.
import { checkConfig } from "./lib/check-config.mjs";

const { code, stdout, stderr } = await checkConfig(process.argv.slice(2));
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = code;
