/**
 * IBANs (ISO 13616): two letters of country, two check digits, up to 30 letters and digits. The
 * check digits make the whole number, letters read as 10-35 and the first four characters moved
 * to the end, leave 1 when divided by 97 (ISO 7064 MOD 97-10): one wrong character or two swapped
 * neighbours always fail it.
 */

/** The IBAN as it is stored and written into files: spaces removed, letters upper-case. */
export function normalizeIban(text: string): string {
  return text.replace(/[ \u00a0]/g, "").toUpperCase();
}

const SHAPE = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;

/**
 * Whether `text` (normalized with {@link normalizeIban}) is an IBAN by shape and checksum.
 *
 * @example isValidIban("GB82WEST12345698765432") // true
 * @example isValidIban("GB82WEST12345698765433") // false: the checksum fails
 */
export function isValidIban(text: string): boolean {
  if (!SHAPE.test(text)) return false;
  const moved = text.slice(4) + text.slice(0, 4);
  // Digit by digit, keeping the remainder small: the number itself has up to 68 digits.
  let remainder = 0;
  for (const character of moved) {
    const value = Number.parseInt(character, 36); // 0-9 as themselves, A-Z as 10-35
    remainder = value < 10 ? (remainder * 10 + value) % 97 : (remainder * 100 + value) % 97;
  }
  return remainder === 1;
}
