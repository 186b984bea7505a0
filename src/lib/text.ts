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
