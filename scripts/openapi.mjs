// `npm run openapi`: writes the API's OpenAPI document and the Node types made from it.
//
//   src/routes/api/openapi.json   made from the route table and its zod schemas
//                                 (src/routes/api/openapi-document.ts); the worker serves it at
//                                 GET /_reflinks/openapi.json
//   integrations/node/reflinks-api.d.ts   made from that document by openapi-typescript, as any
//                                 Node site would make its own (docs/integrations.md#typed-calls-from-node);
//                                 shipped with the Node integration, and the demo origin's types
//
//   npm run openapi -- --check    writes nothing; fails when any of them is not what it would write
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { importWorkerModule } from "./lib/import-worker-module.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GENERATOR = path.join(ROOT, "src/routes/api/openapi-document.ts");
const DOCUMENT = path.join(ROOT, "src/routes/api/openapi.json");
const NODE_TYPES = path.join(ROOT, "integrations/node/reflinks-api.d.ts");
const check = process.argv.includes("--check");

async function typesOf(document) {
  // openapi-typescript needs TypeScript 5's compiler API; the demo workspace has both.
  const demoRequire = (await import("node:module")).createRequire(path.join(ROOT, "demo/package.json"));
  const { default: openapiTS, astToString } = demoRequire("openapi-typescript");
  const header =
    "// Made by `npm run openapi` from src/routes/api/openapi.json with openapi-typescript: do not edit.\n";
  return header + astToString(await openapiTS(document));
}

const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const { openApiDocument } = await importWorkerModule(GENERATOR);
const document = openApiDocument(version);
const types = await typesOf(document);
const outputs = [
  [DOCUMENT, `${JSON.stringify(document, null, 2)}\n`],
  [NODE_TYPES, types],
];

let stale = 0;
for (const [file, text] of outputs) {
  const relative = path.relative(ROOT, file);
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  if (current === text) continue;
  if (check) {
    console.error(
      `✖ ${relative} is not what \`npm run openapi\` makes from the route table: run it and commit.`,
    );
    stale++;
  } else {
    fs.writeFileSync(file, text);
    console.log(`wrote ${relative}`);
  }
}
if (stale) process.exit(1);
if (check) console.log("✔ the OpenAPI document and the Node types match the route table");
