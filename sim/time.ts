// Simulated time: integer microseconds, so that two events at "the same time" compare exactly equal.

/** A point in (or span of) simulated time, in whole microseconds. */
export type SimTime = number;

export const US_PER_S = 1_000_000;
const US_PER_MS = 1_000;

/** Converts seconds (e.g. from a scenario file) to microseconds, rounding to the nearest one. */
export function secondsToUs(s: number): SimTime {
  return toUs(s, US_PER_S, "seconds");
}

/** Converts milliseconds to microseconds, rounding to the nearest one. */
export function msToUs(ms: number): SimTime {
  return toUs(ms, US_PER_MS, "milliseconds");
}

export function usToSeconds(us: SimTime): number {
  return us / US_PER_S;
}

/**
 * Formats microseconds as seconds with `decimals` places, e.g. 12_345_000 -> "12.345".
 * Rounds in integer arithmetic so that output never depends on how a float prints.
 */
export function formatSeconds(us: SimTime, decimals = 3): string {
  if (!Number.isFinite(us)) throw new Error(`formatSeconds: time must be finite, got ${us}`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) {
    throw new Error(`formatSeconds: decimals must be an integer in [0, 6], got ${decimals}`);
  }
  const scale = 10 ** decimals;
  const ticks = Math.round(Math.abs(us) / 10 ** (6 - decimals));
  const sign = us < 0 && ticks > 0 ? "-" : "";
  const whole = Math.floor(ticks / scale);
  if (decimals === 0) return `${sign}${whole}`;
  const frac = String(ticks % scale).padStart(decimals, "0");
  return `${sign}${whole}.${frac}`;
}

function toUs(value: number, usPerUnit: number, unit: string): SimTime {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`time in ${unit} must be a finite number >= 0, got ${value}`);
  }
  const us = Math.round(value * usPerUnit);
  if (!Number.isSafeInteger(us)) {
    throw new Error(`time in ${unit} is too large to hold in microseconds: ${value}`);
  }
  return us;
}
