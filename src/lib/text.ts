/** docs/data.md#long-text: long text inputs are cut to this many characters. */
export const MAX_TEXT_LENGTH = 1024;

/**
 * Cuts client-supplied text to {@link MAX_TEXT_LENGTH} without splitting a surrogate pair, and
 * drops NUL characters, so that nothing a client sends can make a write fail.
 */
export function clip(value: string | null | undefined, max = MAX_TEXT_LENGTH): string {
  if (!value) return "";
  let text = value.includes("\0") ? value.replaceAll("\0", "") : value;
  if (text.length > max) {
    const last = text.charCodeAt(max - 1);
    text = text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
  }
  return text.toWellFormed();
}

/**
 * {@link clip} for a request header: null when the request had none (or sent it empty), so that a
 * missing `User-Agent` or `Referer` is stored as null, never as `""` (docs/data.md).
 */
export function clipHeader(value: string | null | undefined): string | null {
  const text = clip(value);
  return text === "" ? null : text;
}
