/**
 * The files of a payout run (docs/payouts.md#files): what an owner uploads to PayPal, Wise or
 * their bank to pay every referrer of the run at once, and a plain CSV of every payout. Pure: the
 * run, the referrers' payout methods and the SEPA debtor in, the file or the reason there is none
 * out, so that the workers tests and the Node test that runs xmllint write the very same file.
 */
import { csvDocument } from "./csv";
import { majorUnits } from "./major-units";
import { SEPA_MAX_AMOUNT, type SepaDebtor, sepaCreditTransfer } from "./sepa-xml";

export const PAYOUT_FILE_FORMATS = ["paypal", "wise", "sepa", "csv"] as const;
export type PayoutFileFormat = (typeof PAYOUT_FILE_FORMATS)[number];

export const PAYOUT_METHOD_TYPES = ["paypal", "wise", "iban"] as const;
export type PayoutMethodType = (typeof PAYOUT_METHOD_TYPES)[number];

export interface PayoutMethod {
  type: PayoutMethodType;
  email: string | null;
  iban: string | null;
  account_name: string | null;
}

export interface RunPayout {
  id: number;
  referrer_user_id: string;
  currency: string;
  amount: number;
}

export interface RunForFiles {
  id: number;
  currency: string;
  payouts: readonly RunPayout[];
}

export interface PayoutFile {
  body: string;
  contentType: "text/csv; charset=utf-8" | "application/xml; charset=utf-8";
  filename: string;
}

/** Why there is no file: the API's error code and a message naming what to fix. */
export interface NoFile {
  code: "unsupported_currency" | "missing_setting" | "amount_too_large" | "nothing_due";
  message: string;
}

/** Per format, the referrers of the run's payouts that have no method of that format, sorted. */
export function missingMethods(
  run: RunForFiles,
  methods: ReadonlyMap<string, PayoutMethod>,
): Record<"paypal" | "wise" | "sepa", string[]> {
  const missing = (type: PayoutMethodType) =>
    [
      ...new Set(
        run.payouts
          .map((payout) => payout.referrer_user_id)
          .filter((referrer) => methods.get(referrer)?.type !== type),
      ),
    ].sort();
  return { paypal: missing("paypal"), wise: missing("wise"), sepa: missing("iban") };
}

/** The note a payee reads with the money. */
const note = (payout: RunPayout) => `Referral commission, payout ${payout.id}`;

/**
 * The file of `run` in `format`. A payout whose referrer has no method of that format is left out
 * (the run's `missing_method` names them); `csv` has every payout. `today` (YYYY-MM-DD) and `now`
 * (ISO-8601) date a SEPA file.
 */
export function payoutFile(
  format: PayoutFileFormat,
  run: RunForFiles,
  methods: ReadonlyMap<string, PayoutMethod>,
  options: { debtor: Partial<SepaDebtor>; now: string },
): PayoutFile | NoFile {
  const filename = `payout-run-${run.id}-${format}.${format === "sepa" ? "xml" : "csv"}`;
  const csv = (records: (string | number)[][]): PayoutFile => ({
    body: csvDocument(records),
    contentType: "text/csv; charset=utf-8",
    filename,
  });
  const paid = (type: PayoutMethodType) =>
    run.payouts.flatMap((payout) => {
      const method = methods.get(payout.referrer_user_id);
      return method?.type === type ? [{ payout, method }] : [];
    });

  if (format === "csv") {
    return csv([
      ["payout_id", "referrer_user_id", "amount", "currency", "method"],
      ...run.payouts.map((payout) => [
        payout.id,
        payout.referrer_user_id,
        majorUnits(payout.amount, payout.currency),
        payout.currency,
        methods.get(payout.referrer_user_id)?.type ?? "",
      ]),
    ]);
  }
  if (format === "paypal") {
    // PayPal Payouts' web upload: no header row; recipient, amount, currency, customer id (the
    // payout id: PayPal's report names it), note, wallet.
    return csv(
      paid("paypal").map(({ payout, method }) => [
        method.email ?? "",
        majorUnits(payout.amount, payout.currency),
        payout.currency,
        String(payout.id),
        note(payout),
        "PAYPAL",
      ]),
    );
  }
  if (format === "wise") {
    // Wise's "send by email" batch template: Wise asks each payee for their bank details.
    return csv([
      [
        "name",
        "recipientEmail",
        "paymentReference",
        "receiverType",
        "amountCurrency",
        "amount",
        "sourceCurrency",
        "targetCurrency",
      ],
      ...paid("wise").map(({ payout, method }) => [
        method.account_name ?? "",
        method.email ?? "",
        `payout ${payout.id}`,
        "PERSON",
        "target",
        majorUnits(payout.amount, payout.currency),
        payout.currency,
        payout.currency,
      ]),
    ]);
  }

  // SEPA credit transfers are in euro only.
  if (run.currency !== "EUR") {
    return {
      code: "unsupported_currency",
      message: `A SEPA file pays EUR only; run ${run.id} is in ${run.currency}.`,
    };
  }
  const { name, iban, bic } = options.debtor;
  const unset = [
    ["SEPA_DEBTOR_NAME", name],
    ["SEPA_DEBTOR_IBAN", iban],
    ["SEPA_DEBTOR_BIC", bic],
  ]
    .filter(([, value]) => !value)
    .map(([variable]) => variable);
  if (unset.length > 0 || !name || !iban || !bic) {
    return {
      code: "missing_setting",
      message: `A SEPA file needs the account it pays from: set ${unset.join(", ")}.`,
    };
  }
  const transfers = paid("iban");
  // The XSD asks for at least one transfer: a file without one is no file.
  if (transfers.length === 0) {
    return {
      code: "nothing_due",
      message: `No referrer paid in run ${run.id} has an IBAN: missing_method.sepa names them.`,
    };
  }
  const tooLarge = transfers.find(({ payout }) => payout.amount > SEPA_MAX_AMOUNT);
  if (tooLarge) {
    return {
      code: "amount_too_large",
      message: `Payout ${tooLarge.payout.id} is above the 999999999.99 EUR one SEPA transfer may carry.`,
    };
  }
  return {
    body: sepaCreditTransfer({
      messageId: `reflinks-run-${run.id}`,
      createdAt: options.now,
      executionDate: options.now.slice(0, 10),
      debtor: { name, iban, bic },
      transfers: transfers.map(({ payout, method }) => ({
        endToEndId: `reflinks-${payout.id}`,
        amount: payout.amount,
        name: method.account_name ?? "",
        iban: method.iban ?? "",
        remittance: note(payout),
      })),
    }),
    contentType: "application/xml; charset=utf-8",
    filename,
  };
}
