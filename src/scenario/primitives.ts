// Leaf schemas shared by the scenario sections; each carries the phrase an error message
// uses for what was expected ("expected a positive integer, got 0").
import { z } from "zod";

export const positiveInt = z.int().positive().describe("a positive integer");
export const nonNegativeInt = z.int().nonnegative().describe("a non-negative integer");
export const positiveNumber = z.number().positive().describe("a positive number");
export const nonNegativeNumber = z.number().nonnegative().describe("a non-negative number");
export const finiteNumber = z.number().describe("a number");
export const probability = z.number().min(0).max(1).describe("a probability between 0 and 1");
export const flag = z.boolean().describe("true or false");
export const text = z.string().describe("a string");
export const nonEmptyText = z.string().min(1).describe("a non-empty string");

/** Ids may be written bare (`id: 1`); they are kept as strings so `1` and `'1'` are one id. */
export const idSchema = z
  .union([z.string().min(1), z.number()])
  .describe("a string or number")
  .transform(String);

// Ranges that keep a run inside what the simulator can hold. Simulated time is whole microseconds
// in a double, exact up to 2^53 µs (about 285 years): a time or duration in a scenario stays under
// MAX_SECONDS so that sums of them stay exact too.
export const MAX_SECONDS = 100_000_000;
const maxSecondsPhrase = `${MAX_SECONDS} (about 3 years)`;

/** Simulated seconds from `min` up to MAX_SECONDS. */
const secondsFrom = (min: number) =>
  z
    .number()
    .min(min)
    .max(MAX_SECONDS)
    .describe(`a number of seconds from ${min} to ${maxSecondsPhrase}`);

/** An instant of simulated time, e.g. a request's arrival. */
export const instantSeconds = secondsFrom(0);

/** A span of simulated time that must not be zero once rounded to the clock's microseconds. */
export const spanSeconds = secondsFrom(0.000001);

/**
 * A period of a timer that ticks for the whole run (log lines, scrapes): at least a millisecond,
 * so that an idle stretch of simulated time is not millions of ticks.
 */
export const periodSeconds = secondsFrom(0.001);

/** A per-step or per-transfer latency in milliseconds: at most a minute. */
export const latencyMs = z
  .number()
  .min(0)
  .max(60_000)
  .describe("a number of milliseconds from 0 to 60000");

/** A per-token or per-sequence cost: at most a second (in the field's own unit). */
export const perItemCost = (unit: "us" | "ns") => {
  const max = unit === "us" ? 1_000_000 : 1_000_000_000;
  return z.number().min(0).max(max).describe(`a number from 0 to ${max}`);
};

/** Requests per second: one arrival a year at the slowest, so that the arrivals stay on the clock. */
export const arrivalRate = z
  .number()
  .min(0.00000003)
  .max(1_000_000_000)
  .describe("a number of requests per second from 0.00000003 (one a year) to 1000000000");
