// The worker's own TypeScript, run in Node: a module of src/ and what it imports, bundled to one ES
// module in memory by esbuild and imported without writing a file. Used by the deploy check (the
// worker's config rules) and `npm run openapi` (the route table), so neither copies worker code.
import { build } from "esbuild";

/** Imports the module at `entry` (a path to a .ts file of src/) with everything it imports. */
export async function importWorkerModule(entry) {
  const { outputFiles } = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "silent",
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString("base64")}`);
}
