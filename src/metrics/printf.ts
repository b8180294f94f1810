// The `%.Nf` and `%d` conversions of Python's `%` operator (C printf), which vLLM's log line
// uses; leaves out widths, flags and every other conversion.

/**
 * `value` with `digits` decimals, rounded half-to-even on its exact binary value as printf does.
 *
 * `Number.prototype.toFixed` already rounds the exact binary value and differs only on exact
 * ties, where it rounds away from zero. A tie at `digits` decimals needs `value × 10^digits` to
 * end in exactly .5; since 10^digits = 2^digits × 5^digits, that happens iff
 * `|value| × 2^(digits+1)` is an odd integer (0.25 and 0.75 at one decimal, never 0.05 or 0.15).
 */
export function formatFixed(value: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`formatFixed: digits must be an integer in [0, 100], got ${digits}`);
  }
  if (Number.isNaN(value)) return "nan";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return `${sign}inf`;
  return sign + formatMagnitude(magnitude, digits);
}

/** `%d`: Python truncates a float argument toward zero. */
export function formatInt(value: number): string {
  return Math.trunc(value).toFixed(0);
}

function formatMagnitude(magnitude: number, digits: number): string {
  // toFixed switches to exponent notation from 1e21; such doubles are all integers.
  if (magnitude >= 1e21) {
    const integer = BigInt(magnitude).toString();
    return digits === 0 ? integer : `${integer}.${"0".repeat(digits)}`;
  }
  const text = magnitude.toFixed(digits);
  const scaled = magnitude * 2 ** (digits + 1);
  const isTie = Number.isInteger(scaled) && scaled % 2 === 1;
  const last = text.charCodeAt(text.length - 1) - 48;
  // toFixed took the upper neighbour; an odd last digit means the even one is just below it,
  // and an odd digit is ≥ 1, so lowering it never borrows.
  if (isTie && last % 2 === 1) return text.slice(0, -1) + String(last - 1);
  return text;
}
