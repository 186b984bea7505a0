import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { createStubOrigin, listen, STUB_API_TOKEN } from "./test/node/stub-origin.ts";

// The stub origin lives as long as the vitest process; the Worker reaches it over loopback.
const stubOrigin = createStubOrigin();
const originUrl = await listen(stubOrigin);
stubOrigin.unref();
const migrations = await readD1Migrations("./drizzle");
const source = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The tests of the `system` project (below), kept out of `npm test`. */
const SYSTEM_TESTS = ["test/node/integration-django.test.ts", "test/node/payout-files.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                ORIGIN_URL: originUrl,
                API_TOKEN: STUB_API_TOKEN,
                SIGNING_SECRET: "test-signing-secret-0123456789abcdef",
                ORIGIN_TIMEOUT_SECONDS: "2",
                // The dashboard's own host (test/support/dashboard.ts); the site is shop.example.
                DASHBOARD_HOST: "admin.shop.example",
                // `FC_RUNS=5000 npm run test:workers` soaks the property tests.
                ...(process.env.FC_RUNS ? { FC_RUNS: process.env.FC_RUNS } : {}),
              },
              // A real (miniflare) queue, bound under another name so that only the tests that
              // pass it as HITS_QUEUE use queue mode; its consumer is the worker's own handler.
              // An empty database of its own, for the test that upgrades an old schema (migrations.test.ts).
              d1Databases: ["MIGRATION_TEST_DB"],
              // The archive's bucket (ARCHIVE_AFTER_DAYS): bound under another name, so that only
              // the tests that pass it as ARCHIVE archive anything.
              r2Buckets: ["TEST_ARCHIVE"],
              queueProducers: { TEST_HITS_QUEUE: { queueName: "reflinks-hits-test" } },
              queueConsumers: { "reflinks-hits-test": { maxBatchSize: 10, maxBatchTimeout: 0.05 } },
            },
          }),
        ],
        // The lazily loaded modules (src/lazy-modules.ts) are built by wrangler's [build] command,
        // which the pool does not run: here they are their TypeScript entries, in the tests' one
        // module graph. Their bundles and the boundary between them run in test/e2e (wrangler dev).
        resolve: {
          alias: [
            { find: /^\.\/lazy\/api\.js$/, replacement: source("src/lazy/api-entry.ts") },
            { find: /^\.\/lazy\/archive-parquet\.js$/, replacement: source("src/jobs/archive-parquet.ts") },
          ],
        },
        test: {
          name: "workers",
          include: ["test/{unit,routes}/**/*.test.ts"],
          setupFiles: ["./test/support/apply-migrations.ts"],
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          exclude: SYSTEM_TESTS,
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        // Node tests that need Debian packages a fresh machine does not have (python3-django,
        // libxml2-utils): `npm run test:full` and CI run them; .ci/run installs the packages.
        test: {
          name: "system",
          include: SYSTEM_TESTS,
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
