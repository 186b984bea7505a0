/**
 * The largest `amount` of a conversion or a reversal, in minor units: a billion in a currency of
 * cents. It keeps every sum exact: a total reaches 2^53 (past which a JSON number is no longer
 * exact) only after some 90,000 payments at this maximum in one currency, and SQLite's 64-bit SUM
 * overflows only after some 92 million (docs/money.md#amounts).
 */
export const MAX_AMOUNT = 100_000_000_000;
