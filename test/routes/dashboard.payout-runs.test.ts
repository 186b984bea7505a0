/**
 * Payout runs on the dashboard (docs/payouts.md#on-the-dashboard): a run button per currency with
 * referrers due, the referrers due without a payout method named beside it, and each run's files
 * to download through the dashboard (Basic credentials, not the API's bearer token).
 */
import { describe, expect, it, vi } from "vitest";
import { API_TOKEN, apiJson } from "../support/api";
import {
  basic,
  DASHBOARD,
  DASHBOARD_ORIGIN,
  dashboardHtml,
  formFields,
  postForm,
  select,
  texts,
} from "../support/dashboard";
import { converted, DUE_AT_ONCE, referredUser } from "../support/money";
import { send } from "../support/worker";

vi.setConfig({ testTimeout: 30_000 });

const today = new Date().toISOString().slice(0, 10);

const page = (search = `from=${today}&to=${today}`) => dashboardHtml(search);

/** A referrer with 10 % of `amount` due in `currency`. */
async function referrerOwed(currency: string, amount: number) {
  const { user, referrer } = await referredUser();
  await converted(user, amount, { currency, bindings: DUE_AT_ONCE });
  return referrer;
}

const RUN_FORM = (currency: string) => `ul[data-list=run-currencies] li[data-currency=${currency}] form`;

async function submitRun(html: string, currency: string) {
  const response = await postForm(`${DASHBOARD}/payout-runs`, await formFields(html, RUN_FORM(currency)));
  await response.body?.cancel();
  expect(response.status).toBe(303);
  return new URL(response.headers.get("Location") ?? "", DASHBOARD_ORIGIN);
}

function download(path: string, authorization: string | null = basic("me", API_TOKEN)) {
  return send(`${DASHBOARD_ORIGIN}${path}`, {
    headers: authorization ? { Authorization: authorization } : {},
  });
}

describe("a payout run from the dashboard", () => {
  it("one button per currency makes one run, however often it is sent; the page marks it and links its files", async () => {
    const paid = await referrerOwed("QDA", 10_000); // 10.00
    const methodless = await referrerOwed("QDA", 5_000); // 5.00
    await apiJson(`/users/${paid}/payout-method`, {
      method: "PUT",
      json: { type: "paypal", email: "paid@example.com" },
    });
    const html = await page();
    expect(await texts(html, `${RUN_FORM("QDA")} button`)).toEqual([
      "Pay 2 referrers 15.00 QDA (payout run)",
    ]);
    // Due but without a method: named before the run.
    const [without] = await select(html, "[data-without-method=QDA]");
    expect(without?.text).toContain(methodless);
    expect(without?.text).not.toContain(paid);

    const first = await submitRun(html, "QDA");
    expect(first.searchParams.get("done")).toBe("run_created");
    const runId = Number(first.searchParams.get("run"));
    const { run } = (await apiJson(`/payout-runs/${runId}`)).body;
    expect(run).toMatchObject({ currency: "QDA", amount: 1_500 });

    const shown = await page(first.search.slice(1));
    const [flash] = await select(shown, "[data-flash]");
    expect(flash?.text.trim()).toBe(
      `Payout run #${runId} made: 2 payouts, 15.00 QDA. Download its files below.`,
    );
    const [row] = await select(shown, `table[data-table=runs] tr[data-run="${runId}"]`);
    expect(row?.attributes["aria-current"]).toBe("true");
    const files = await select(shown, `table[data-table=runs] tr[data-run="${runId}"] a[data-file]`);
    expect(files.map((link) => link.attributes.href)).toEqual(
      ["paypal", "wise", "sepa", "csv"].map(
        (format) => `${DASHBOARD}/payout-runs/${runId}/file?format=${format}`,
      ),
    );
    const [missingPaypal] = await select(shown, `tr[data-run="${runId}"] [data-missing=paypal]`);
    expect(missingPaypal?.text).toContain(methodless);
    expect(await select(shown, RUN_FORM("QDA"))).toEqual([]); // nothing due any more

    // The second click: the same run, nothing paid twice.
    const second = await submitRun(html, "QDA");
    expect(Object.fromEntries(second.searchParams)).toMatchObject({
      done: "run_existing",
      run: String(runId),
    });
    expect((await apiJson(`/payouts?referrer_user_id=${paid}`)).body.payouts).toHaveLength(1);
  });

  it("the file links answer the run's files as attachments, with Basic credentials only", async () => {
    const referrer = await referrerOwed("QDB", 12_340); // 12.34
    await apiJson(`/users/${referrer}/payout-method`, {
      method: "PUT",
      json: { type: "paypal", email: "ann@example.com" },
    });
    const location = await submitRun(await page(), "QDB");
    const runId = Number(location.searchParams.get("run"));
    const path = `${DASHBOARD}/payout-runs/${runId}/file?format=paypal`;

    const file = await download(path);
    expect(file.status).toBe(200);
    expect(file.headers.get("Content-Disposition")).toBe(
      `attachment; filename="payout-run-${runId}-paypal.csv"`,
    );
    expect(await file.text()).toMatch(/^ann@example\.com,12\.34,QDB,\d+,/);

    const posted = await postForm(path, {});
    await posted.body?.cancel();
    expect(posted.status).toBe(405);
    expect(posted.headers.get("Allow")).toBe("GET, HEAD");

    const anonymous = await download(path, null);
    await anonymous.body?.cancel();
    expect(anonymous.status).toBe(401);

    // A file that cannot be made says why, naming what to fix.
    const sepa = await download(`${DASHBOARD}/payout-runs/${runId}/file?format=sepa`);
    expect(sepa.status).toBe(422);
    expect(await sepa.text()).toContain("A SEPA file pays EUR only");
  });

  it("a run form sent again with a new key once nothing is due says so; nothing is paid", async () => {
    const referrer = await referrerOwed("QDC", 1_000);
    const html = await page();
    const fields = await formFields(html, RUN_FORM("QDC"));
    expect((await submitRun(html, "QDC")).searchParams.get("done")).toBe("run_created");
    const response = await postForm(`${DASHBOARD}/payout-runs`, {
      ...fields,
      idempotency_key: crypto.randomUUID(),
    });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("Location") ?? "", DASHBOARD_ORIGIN);
    expect(location.searchParams.get("failed")).toBe("nothing_due_run");
    const [flash] = await select(await page(location.search.slice(1)), "[data-flash]");
    expect(flash?.text.trim()).toBe(
      "Nothing paid: no referrer is due at least the minimum in that currency now.",
    );
    expect((await apiJson(`/payouts?referrer_user_id=${referrer}`)).body.payouts).toHaveLength(1);
  });
});
