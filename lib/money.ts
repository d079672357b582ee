/**
 * Money is integer minor units everywhere (cents, pence). Only two operations
 * need rounding: tax at a rate in basis points, and splitting an amount
 * proportionally (partial invoices), both with banker's rounding so that
 * repeated splits do not drift in one direction.
 */

/** Rounds a non-negative rational n/d to the nearest integer, ties to even. */
function roundHalfEven(n: number, d: number): number {
  const q = Math.floor(n / d);
  const r = n - q * d;
  if (r * 2 > d) return q + 1;
  if (r * 2 < d) return q;
  return q % 2 === 0 ? q : q + 1;
}

/** Tax on a net amount at `rateBp` basis points (2000 = 20 %). */
export function taxOn(net: number, rateBp: number): number {
  return roundHalfEven(net * rateBp, 10000);
}

/**
 * The share of `amount` that belongs to `part` out of `whole` units, such that
 * the shares of consecutive parts that add up to the whole add up to `amount`
 * exactly: the caller passes what was already taken, and the last part gets the rest.
 */
export function shareOf(
  amount: number,
  part: number,
  whole: number,
  alreadyTaken: number,
  alreadyParts: number,
): number {
  if (alreadyParts + part >= whole) return amount - alreadyTaken;
  return roundHalfEven(amount * (alreadyParts + part), whole) - alreadyTaken;
}

/** Splits `amount` over parts in proportion to their weights; the parts add up to it exactly. */
export function splitByWeight(amount: number, weights: number[]): number[] {
  const whole = weights.reduce((s, w) => s + w, 0);
  let taken = 0;
  let parts = 0;
  return weights.map((w) => {
    const share = shareOf(amount, w, whole, taken, parts);
    taken += share;
    parts += w;
    return share;
  });
}

/** Minor units as a human reads them: 439776, EUR → "4397.76 EUR" (two-decimal currencies). */
export function formatMoney(minor: number, currency: string): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}
