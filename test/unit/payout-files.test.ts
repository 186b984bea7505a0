import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvCell, csvDocument } from "../../src/payouts/csv";
import { missingMethods, type PayoutMethod, payoutFile } from "../../src/payouts/files";
import { isValidIban, normalizeIban } from "../../src/payouts/iban";
import { majorUnits } from "../../src/payouts/major-units";
import { sepaText } from "../../src/payouts/sepa-text";

describe("isValidIban: ISO 13616 mod-97", () => {
  // Published examples: the UK and German ones of the ISO/SWIFT IBAN registry, and others widely
  // used in bank documentation.
  it.each([
    "GB82WEST12345698765432",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "NO9386011117947",
    "MT84MALT011000012345MTLCAST001S",
  ])("%s is valid", (iban) => {
    expect(isValidIban(iban)).toBe(true);
  });

  it.each([
    ["GB82WEST12345698765433", "last digit changed"],
    ["GB28WEST12345698765432", "check digits swapped"],
    ["DE89370400440532031000", "two digits swapped"],
    ["FR1420041010050500013N02606", "a letter changed"],
    ["NL91ABNA041716430", "a digit missing"],
    ["GB82 WEST 1234 5698 7654 32", "spaces not normalized"],
    ["gb82west12345698765432", "lower case not normalized"],
    ["GBXXWEST12345698765432", "check digits not digits"],
    ["GB82WEST1234569876543!", "a character outside the alphabet"],
    ["", "empty"],
  ])("%s is not (%s)", (iban) => {
    expect(isValidIban(iban)).toBe(false);
  });

  it("normalizeIban removes spaces and upper-cases what people type", () => {
    expect(normalizeIban("gb82 west 1234 5698 7654 32")).toBe("GB82WEST12345698765432");
    expect(isValidIban(normalizeIban("gb82 west 1234 5698 7654 32"))).toBe(true);
  });

  it("any one changed character of a valid IBAN fails the checksum", () => {
    const valid = "DE89370400440532013000";
    fc.assert(
      fc.property(fc.nat(valid.length - 3), fc.integer({ min: 1, max: 9 }), (offset, delta) => {
        const at = offset + 2; // a digit after the country code
        const digit = (Number(valid[at]) + delta) % 10;
        return !isValidIban(`${valid.slice(0, at)}${digit}${valid.slice(at + 1)}`);
      }),
    );
  });
});

describe("majorUnits: exact, from integers", () => {
  it.each([
    [1500, "EUR", "15.00"],
    [1, "EUR", "0.01"],
    [0, "EUR", "0.00"],
    [123, "JPY", "123"],
    [1, "KWD", "0.001"],
    [-250, "USD", "-2.50"],
    [100_000_000_000, "EUR", "1000000000.00"],
    [Number.MAX_SAFE_INTEGER, "EUR", "90071992547409.91"],
  ])("%d %s is %s", (amount, currency, expected) => {
    expect(majorUnits(amount, currency)).toBe(expected);
  });

  it("a sum past 2^53 as a bigint", () => {
    expect(majorUnits(2n ** 60n + 7n, "EUR")).toBe("11529215046068469.83");
  });

  it("refuses a fraction of a minor unit", () => {
    expect(() => majorUnits(1.5, "EUR")).toThrow(RangeError);
  });

  it("for any amount, reading the text back gives the same integer", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (amount) => BigInt(majorUnits(amount, "EUR").replace(".", "")) === BigInt(amount),
      ),
    );
  });
});

describe("csvCell and csvDocument: RFC 4180", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ["", ""],
    [15, "15"],
  ])("%j is written %j", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it("records end with CRLF", () => {
    expect(
      csvDocument([
        ["a", "b"],
        ["c,d", 1],
      ]),
    ).toBe('a,b\r\n"c,d",1\r\n');
  });

  it("any field survives a round trip through an RFC 4180 reader", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (fields) => {
        expect(readCsv(csvDocument([fields]))).toEqual([fields]);
      }),
    );
  });
});

/** A small RFC 4180 reader, independent of the writer: quoted fields, doubled quotes. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const character = text[at];
    if (quoted) {
      if (character === '"' && text[at + 1] === '"') {
        field += '"';
        at++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ",") {
      record.push(field);
      field = "";
    } else if (character === "\r" && text[at + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      at++;
    } else field += character;
  }
  return records;
}

describe("sepaText: the SEPA character set", () => {
  it.each([
    ["Zoë Müller-Łukasz & Søn", "Zoe Muller-Lukasz + Son"],
    ["José Ñúñez", "Jose Nunez"],
    ["Straße Æsir Œuvre", "Strasse AEsir OEuvre"],
    ["李小龙 Bruce", "Bruce"],
    ["a\tb\nc", "a b c"],
    ["<script>", "script"],
    ["O'Brien (Ltd.), 1/2?: +", "O'Brien (Ltd.), 1/2?: +"],
  ])("%j is %j", (text, expected) => {
    expect(sepaText(text)).toBe(expected);
  });

  it("never more than the limit, never a character outside the set", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (text) => {
        const written = sepaText(text);
        expect(written.length).toBeLessThanOrEqual(70);
        expect(written).toMatch(/^[A-Za-z0-9/\-?:().,'+ ]*$/);
      }),
    );
  });
});

const RUN = {
  id: 7,
  currency: "EUR",
  payouts: [
    { id: 11, referrer_user_id: "ann", currency: "EUR", amount: 1500 },
    { id: 12, referrer_user_id: "bob", currency: "EUR", amount: 2 },
    { id: 13, referrer_user_id: "cy", currency: "EUR", amount: 99_999 },
    { id: 14, referrer_user_id: "dee", currency: "EUR", amount: 700 },
  ],
};
const METHODS = new Map<string, PayoutMethod>([
  ["ann", { type: "paypal", email: "ann@example.com", iban: null, account_name: null }],
  ["bob", { type: "wise", email: "bob@example.com", iban: null, account_name: 'Bob "B", Jr' }],
  ["cy", { type: "iban", email: null, iban: "DE89370400440532013000", account_name: "Cécile Øster" }],
]);
const DEBTOR = { name: "Shop GmbH", iban: "GB82WEST12345698765432", bic: "DEUTDEFF" };
const NOW = "2026-12-08T10:00:00.000Z";

function file(format: "paypal" | "wise" | "sepa" | "csv", run = RUN, debtor: object = DEBTOR) {
  const made = payoutFile(format, run, METHODS, { debtor, now: NOW });
  if (!("body" in made)) throw new Error(made.message);
  return made;
}

describe("payoutFile", () => {
  it("paypal: one row per referrer paid by PayPal, amounts in major units, the payout id as reference", () => {
    expect(file("paypal")).toEqual({
      body: 'ann@example.com,15.00,EUR,11,"Referral commission, payout 11",PAYPAL\r\n',
      contentType: "text/csv; charset=utf-8",
      filename: "payout-run-7-paypal.csv",
    });
  });

  it("wise: a header row, then the referrers paid by Wise, fields quoted as RFC 4180 says", () => {
    expect(file("wise").body).toBe(
      "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency\r\n" +
        '"Bob ""B"", Jr",bob@example.com,payout 12,PERSON,target,0.02,EUR,EUR\r\n',
    );
  });

  it("csv: every payout, with its method or none", () => {
    expect(file("csv").body).toBe(
      "payout_id,referrer_user_id,amount,currency,method\r\n" +
        "11,ann,15.00,EUR,paypal\r\n12,bob,0.02,EUR,wise\r\n13,cy,999.99,EUR,iban\r\n14,dee,7.00,EUR,\r\n",
    );
  });

  it("JPY amounts have no decimals", () => {
    const yen = {
      id: 8,
      currency: "JPY",
      payouts: [{ id: 21, referrer_user_id: "ann", currency: "JPY", amount: 123 }],
    };
    expect(file("paypal", yen).body).toBe(
      'ann@example.com,123,JPY,21,"Referral commission, payout 21",PAYPAL\r\n',
    );
  });

  it("sepa: one transaction per payout with an IBAN, end-to-end id reflinks-<payout id>, names transliterated", () => {
    const sepa = file("sepa");
    expect(sepa.contentType).toBe("application/xml; charset=utf-8");
    expect(sepa.filename).toBe("payout-run-7-sepa.xml");
    expect(sepa.body.match(/<CdtTrfTxInf>/g)).toHaveLength(1);
    expect(sepa.body).toContain("<EndToEndId>reflinks-13</EndToEndId>");
    expect(sepa.body).toContain('<InstdAmt Ccy="EUR">999.99</InstdAmt>');
    expect(sepa.body).toContain("<Cdtr><Nm>Cecile Oster</Nm></Cdtr>");
    expect(sepa.body).toContain("<MsgId>reflinks-run-7</MsgId>");
    expect(sepa.body.match(/<CtrlSum>999.99<\/CtrlSum>/g)).toHaveLength(2);
    expect(sepa.body).toContain("<Dt>2026-12-08</Dt>");
    expect(sepa.body).toContain("<PmtInfId>reflinks-run-7</PmtInfId>");
    expect(sepa.body).toContain("<ChrgBr>SLEV</ChrgBr>");
    expect(sepa.body).toContain("<RmtInf><Ustrd>Referral commission, payout 13</Ustrd></RmtInf>");
  });

  it("sepa: EUR only", () => {
    const made = payoutFile("sepa", { ...RUN, currency: "USD" }, METHODS, { debtor: DEBTOR, now: NOW });
    expect(made).toMatchObject({ code: "unsupported_currency", message: expect.stringContaining("EUR") });
  });

  it("sepa: names the debtor settings that are unset", () => {
    const made = payoutFile("sepa", RUN, METHODS, { debtor: { name: "Shop" }, now: NOW });
    expect(made).toEqual({
      code: "missing_setting",
      message: "A SEPA file needs the account it pays from: set SEPA_DEBTOR_IBAN, SEPA_DEBTOR_BIC.",
    });
  });

  it("sepa: no referrer with an IBAN, no file (the schema asks for a transfer)", () => {
    const made = payoutFile("sepa", { ...RUN, payouts: RUN.payouts.slice(0, 2) }, METHODS, {
      debtor: DEBTOR,
      now: NOW,
    });
    expect(made).toMatchObject({ code: "nothing_due" });
  });

  it("sepa: a payout above what one transfer carries is refused, not cut", () => {
    const run = {
      ...RUN,
      payouts: [{ id: 31, referrer_user_id: "cy", currency: "EUR", amount: 100_000_000_000 }],
    };
    expect(payoutFile("sepa", run, METHODS, { debtor: DEBTOR, now: NOW })).toMatchObject({
      code: "amount_too_large",
      message: expect.stringContaining("31"),
    });
  });

  it("missingMethods: per format, the referrers without a method of it", () => {
    expect(missingMethods(RUN, METHODS)).toEqual({
      paypal: ["bob", "cy", "dee"],
      wise: ["ann", "cy", "dee"],
      sepa: ["ann", "bob", "dee"],
    });
  });
});
