/**
 * The SEPA character set (EPC217-08, the Latin characters every bank in the scheme must accept):
 * `a-z A-Z 0-9 / - ? : ( ) . , ' +` and space. Names outside it are transliterated, as the EPC
 * recommends (é→e, ß→ss, Ø→O), and what has no Latin form is left out.
 */

const SEPA = /[^A-Za-z0-9/\-?:().,'+ ]/g;

/** Letters that Unicode does not decompose into a Latin letter and marks. */
const LETTERS: Record<string, string> = {
  ß: "ss",
  ẞ: "SS",
  Æ: "AE",
  æ: "ae",
  Œ: "OE",
  œ: "oe",
  Ø: "O",
  ø: "o",
  Ł: "L",
  ł: "l",
  Đ: "D",
  đ: "d",
  Ð: "D",
  ð: "d",
  Þ: "TH",
  þ: "th",
  ı: "i",
  "&": "+",
  "–": "-",
  "—": "-",
  "‘": "'",
  "’": "'",
  _: "-",
};

/**
 * `text` in the SEPA character set, at most `max` characters, spaces collapsed and trimmed.
 *
 * @example sepaText("Zoë Müller-Łukasz & Søn") // "Zoe Muller-Lukasz + Son"
 */
export function sepaText(text: string, max = 70): string {
  const latin = [...text.normalize("NFKD")]
    .map((character) => LETTERS[character] ?? character)
    .join("")
    .replace(/\p{M}/gu, "")
    .replace(/\s+/g, " ")
    .replace(SEPA, "")
    .replace(/ {2,}/g, " ")
    .trim();
  return latin.slice(0, max).trimEnd();
}
