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
