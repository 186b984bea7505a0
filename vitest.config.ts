import { availableParallelism } from "node:os";
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

/**
 * The Workers-runtime test files that need a database of their own (a fresh workerd per file):
 * the dashboard's pages list every link and hit there is, the migration tests build a schema from
 * fixed ids, a few count every row of a table, and the scheduled job's tests run it over the whole
 * database (a month later, it would approve every other file's pending conversions). Every other
 * file shares one workerd and one database with the rest (`isolate: false`), creating its own
 * uniquely named rows: a fresh workerd per file cost 2.5 s of CPU each, three quarters of
 * `npm test`.
 */
const OWN_DATABASE_TESTS = [
  "test/routes/dashboard.*.test.ts",
  "test/routes/*-migration.test.ts",
  "test/routes/link-options.test.ts",
  "test/routes/users.test.ts",
  "test/routes/webhooks.test.ts",
  "test/routes/webhooks.*.test.ts",
  "test/routes/retention.test.ts",
  "test/routes/reports.happy.test.ts",
  "test/routes/reports.money.test.ts",
];

/** The tests of the `system` project (below), kept out of `npm test`. */
const SYSTEM_TESTS = ["test/node/integration-django.test.ts", "test/node/payout-files.test.ts"];

/** The Workers-runtime project: `name`, the files it runs, and whether each gets a fresh workerd. */
function workersProject(name: string, files: { include: string[]; exclude?: string[] }, isolate: boolean) {
  return {
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
      name,
      ...files,
      isolate,
      // A spy lasts one test: the files of the shared workerd (above) must not inherit one.
      restoreMocks: true,
      setupFiles: ["./test/support/apply-migrations.ts"],
    },
  };
}

export default defineConfig({
  test: {
    // Every core: vitest's default leaves one free, which on a 2-core machine ran one file at a
    // time (the Workers runtime's files beside the Node ones that wait on wrangler: 2:42 instead
    // of 3:53 for `npm test`).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      workersProject(
        "workers",
        { include: ["test/{unit,routes}/**/*.test.ts"], exclude: OWN_DATABASE_TESTS },
        false,
      ),
      workersProject("workers-isolated", { include: OWN_DATABASE_TESTS }, true),
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          exclude: SYSTEM_TESTS,
          environment: "node",
          restoreMocks: true,
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
          restoreMocks: true,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          restoreMocks: true,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
