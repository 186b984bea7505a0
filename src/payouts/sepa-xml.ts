/**
 * A SEPA credit transfer file: ISO 20022 `pain.001.001.09` as the EPC's SEPA Credit Transfer
 * customer-to-bank guidelines restrict it (EPC132-08), the file a bank's portal takes to make many
 * transfers at once. test/node/payout-files.test.ts validates what this writes against the
 * EPC's XSD (docs/sepa/) with xmllint.
 */
import { majorUnits } from "./major-units";
import { sepaText } from "./sepa-text";

export interface SepaDebtor {
  name: string;
  iban: string;
  bic: string;
}

export interface SepaTransfer {
  /** Max 35 characters of the SEPA set, unique per transfer: the bank hands it to the payee's. */
  endToEndId: string;
  /** Minor units (cents): EUR only. */
  amount: number;
  name: string;
  iban: string;
  remittance: string;
}

/** The largest amount one SEPA transfer carries: 999,999,999.99 EUR (the XSD's maxInclusive). */
export const SEPA_MAX_AMOUNT = 99_999_999_999;

const escapeXml = (text: string) =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");

/** An element and its text, escaped. */
const element = (name: string, text: string, attributes = "") =>
  `<${name}${attributes}>${escapeXml(text)}</${name}>`;

/**
 * The file of one payment instruction from `debtor` to every transfer, in EUR. `messageId` (max
 * 35 characters) identifies the file to the bank, `createdAt` is ISO-8601 and `executionDate`
 * (YYYY-MM-DD) the day the bank should pay.
 */
export function sepaCreditTransfer(input: {
  messageId: string;
  createdAt: string;
  executionDate: string;
  debtor: SepaDebtor;
  transfers: readonly SepaTransfer[];
}): string {
  const { messageId, createdAt, executionDate, debtor, transfers } = input;
  // Integers throughout: the control sum is the sum of minor units, written once.
  const total = transfers.reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
  const count = String(transfers.length);
  const controlSum = majorUnits(total, "EUR");
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">',
    "<CstmrCdtTrfInitn>",
    "<GrpHdr>",
    element("MsgId", messageId),
    element("CreDtTm", createdAt),
    element("NbOfTxs", count),
    element("CtrlSum", controlSum),
    `<InitgPty>${element("Nm", sepaText(debtor.name))}</InitgPty>`,
    "</GrpHdr>",
    "<PmtInf>",
    element("PmtInfId", messageId),
    element("PmtMtd", "TRF"),
    element("NbOfTxs", count),
    element("CtrlSum", controlSum),
    "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>",
    `<ReqdExctnDt>${element("Dt", executionDate)}</ReqdExctnDt>`,
    `<Dbtr>${element("Nm", sepaText(debtor.name))}</Dbtr>`,
    `<DbtrAcct><Id>${element("IBAN", debtor.iban)}</Id></DbtrAcct>`,
    `<DbtrAgt><FinInstnId>${element("BICFI", debtor.bic)}</FinInstnId></DbtrAgt>`,
    element("ChrgBr", "SLEV"),
    ...transfers.map((transfer) =>
      [
        "<CdtTrfTxInf>",
        `<PmtId>${element("EndToEndId", transfer.endToEndId)}</PmtId>`,
        `<Amt>${element("InstdAmt", majorUnits(transfer.amount, "EUR"), ' Ccy="EUR"')}</Amt>`,
        `<Cdtr>${element("Nm", sepaText(transfer.name))}</Cdtr>`,
        `<CdtrAcct><Id>${element("IBAN", transfer.iban)}</Id></CdtrAcct>`,
        `<RmtInf>${element("Ustrd", sepaText(transfer.remittance, 140))}</RmtInf>`,
        "</CdtTrfTxInf>",
      ].join(""),
    ),
    "</PmtInf>",
    "</CstmrCdtTrfInitn>",
    "</Document>",
  ];
  return `${lines.join("\n")}\n`;
}
