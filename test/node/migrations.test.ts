import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("the checked-in migrations", () => {
  const scratch = mkdtemp(join(tmpdir(), "reflinks-migrations-"));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));

  it("match the Drizzle schema: regenerating them produces nothing new", async () => {
    const out = join(await scratch, "drizzle");
    await cp("drizzle", out, { recursive: true });
    const { stdout, stderr } = await run(
      "node",
      [
        "node_modules/drizzle-kit/bin.cjs",
        "generate",
        "--dialect=sqlite",
        "--schema=./src/db/schema.ts",
        // drizzle-kit prefixes "./" to --out, so it must be relative.
        `--out=${relative(process.cwd(), out)}`,
      ],
      { env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(stderr).toBe("");
    expect(stdout).toMatch(/No schema changes/);
    expect(await readdir(out)).toEqual(await readdir("drizzle"));
  });
});
