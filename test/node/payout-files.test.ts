/**
 * The SEPA file a payout run downloads (src/payouts/files.ts, the worker's own module bundled for
 * Node) is valid against the EPC's pain.001.001.09 XSD (docs/sepa/), by a real validator:
 * `xmllint --schema` (Debian's libxml2-utils, which .ci/run installs).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importWorkerModule } from "../../scripts/lib/import-worker-module.mjs";

const execFileAsync = promisify(execFile);
const XSD = "docs/sepa/pain.001.001.09.xsd";

interface FilesModule {
  payoutFile(
    format: "sepa",
    run: {
      id: number;
      currency: string;
      payouts: { id: number; referrer_user_id: string; currency: string; amount: number }[];
    },
    methods: Map<
      string,
      { type: string; email: string | null; iban: string | null; account_name: string | null }
    >,
    options: { debtor: { name?: string; iban?: string; bic?: string }; now: string },
  ): { body: string } | { code: string; message: string };
}

let files: FilesModule;
let dir: string;

beforeAll(async () => {
  files = (await importWorkerModule("src/payouts/files.ts")) as FilesModule;
  dir = await mkdtemp(join(tmpdir(), "reflinks-sepa-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** xmllint's verdict on `xml`: its exit code and what it printed. */
async function xmllint(xml: string): Promise<{ code: number; output: string }> {
  const path = join(dir, `${crypto.randomUUID()}.xml`);
  await writeFile(path, xml);
  try {
    const { stderr } = await execFileAsync("xmllint", ["--noout", "--schema", XSD, path]);
    return { code: 0, output: stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, output: failed.stderr };
  }
}

const DEBTOR = { name: "Société Générale Shop & Co", iban: "FR1420041010050500013M02606", bic: "SOGEFRPP" };

function sepa(payouts: [number, string, number][], names: Record<string, [string, string]>): string {
  const methods = new Map(
    Object.entries(names).map(([user, [name, iban]]) => [
      user,
      { type: "iban", email: null, iban, account_name: name },
    ]),
  );
  const made = files.payoutFile(
    "sepa",
    {
      id: 42,
      currency: "EUR",
      payouts: payouts.map(([id, user, amount]) => ({ id, referrer_user_id: user, currency: "EUR", amount })),
    },
    methods,
    { debtor: DEBTOR, now: "2026-12-08T10:00:00.000Z" },
  );
  if (!("body" in made)) throw new Error(made.message);
  return made.body;
}

describe("SEPA files against the EPC132-08 XSD", () => {
  it("the schema is the one docs/sepa/README.md names", async () => {
    const sha = createHash("sha256")
      .update(await readFile(XSD))
      .digest("hex");
    expect(sha).toBe("a61935925908e08d5ae1e52b06ea162617d626504f31651ca989ab74dbffbd49");
  });

  it("a run's file with names outside the SEPA set, one cent and the largest amount is valid", async () => {
    const xml = sepa(
      [
        [1, "ann", 1500],
        [2, "zoë", 1],
        [3, "li", 99_999_999_999],
      ],
      {
        ann: ["Ann O'Neil-Smith", "DE89370400440532013000"],
        zoë: ["Zoë Müller & Søn <Ltd>", "NL91ABNA0417164300"],
        li: ["李小龙 Bruce Lee", "GB82WEST12345698765432"],
      },
    );
    const verdict = await xmllint(xml);
    expect(verdict.output).toContain("validates");
    expect(verdict.code).toBe(0);
  });

  it("the validator does refuse a file that breaks the schema (the test can fail)", async () => {
    const xml = sepa([[1, "ann", 1500]], { ann: ["Ann", "DE89370400440532013000"] });
    const broken = xml.replace(
      '<InstdAmt Ccy="EUR">15.00</InstdAmt>',
      '<InstdAmt Ccy="EUR">15.001</InstdAmt>',
    );
    expect(broken).not.toBe(xml);
    const verdict = await xmllint(broken);
    expect(verdict.code).not.toBe(0);
    expect(verdict.output).toContain("fails to validate");
  });
});
