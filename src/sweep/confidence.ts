// The mean of a sample and its 95 % confidence interval, Student's t with n − 1 degrees of
// freedom (the runs of one configuration differ only in their seed, so the sample is small and
// its variance is estimated from itself).

export interface MeanInterval {
  n: number;
  mean: number;
  /** Half the interval's width; null with fewer than two values, when there is no spread. */
  half: number | null;
}

/**
 * ```
 * mean ± t(0.975, n − 1) · s / √n,   s² = Σ (x − mean)² / (n − 1)
 * ```
 * The sums run in the values' order, so that the same values give the same bits.
 */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval {
  const n = values.length;
  if (n === 0) throw new Error("the mean of no values");
  let sum = 0;
  for (const x of values) sum += x;
  const mean = sum / n;
  if (n < 2) return { n, mean, half: null };
  let squares = 0;
  for (const x of values) squares += (x - mean) ** 2;
  const s = Math.sqrt(squares / (n - 1));
  return { n, mean, half: (studentTQuantile(1 - (1 - level) / 2, n - 1) * s) / Math.sqrt(n) };
}

/** The p-quantile (p in [0.5, 1)) of Student's t with `df` degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0.5 && p < 1) || !(df > 0)) {
    throw new Error(`a t quantile needs 0.5 <= p < 1 and df > 0, got p ${p}, df ${df}`);
  }
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  let lo = 0;
  // Bisection to the last bit: slower than Newton's method, but it cannot diverge.
  for (;;) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) return mid;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
}

/** P(T ≤ t) for t ≥ 0: 1 − I_x(df/2, 1/2) / 2 with x = df / (df + t²). */
export function studentTCdf(t: number, df: number): number {
  return 1 - regularizedBeta(df / (df + t * t), df / 2, 0.5) / 2;
}

/** I_x(a, b) by its continued fraction (Numerical Recipes, `betai`). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The fraction converges fast on the side of the mean a / (a + b).
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** Lentz's evaluation of the incomplete beta function's continued fraction. */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + even * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(z) for z > 0, Lanczos' approximation (g = 7), good to about 15 digits. */
function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}
