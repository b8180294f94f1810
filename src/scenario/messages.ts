// Operator-facing wording for zod's issues: what was expected, in the words of the scenario
// format, and what the file actually holds.
import { z } from "zod";
import { formatPath, type PathSegment } from "./paths.ts";
import { didYouMean, suggestOrList } from "./suggest.ts";

type RawIssue = z.core.$ZodRawIssue;

const TYPE_PHRASES: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

/** How a value read from YAML is named in a message: `0`, `string 'fast'`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null) return "an empty value";
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `string ${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

function quote(text: string): string {
  return `'${text.length > 40 ? `${text.slice(0, 37)}...` : text}'`;
}

/** Enum values are named bare when they are strings: "got 'nixel'". */
function describeChoice(value: unknown): string {
  return typeof value === "string" ? quote(value) : describeValue(value);
}

/** The phrase the schema was described with (see primitives.ts), if any. */
function describedAs(issue: RawIssue): string | undefined {
  return issue.schema === undefined ? undefined : z.globalRegistry.get(issue.schema)?.description;
}

function boundPhrase(issue: RawIssue & { code: "too_small" | "too_big" }): string {
  const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
  if (issue.origin === "array") {
    return issue.code === "too_small"
      ? `a list of at least ${limit} items`
      : `a list of at most ${limit} items`;
  }
  if (issue.code === "too_small") {
    return issue.inclusive ? `a value of at least ${limit}` : `a value greater than ${limit}`;
  }
  return issue.inclusive ? `a value of at most ${limit}` : `a value less than ${limit}`;
}

function lastKey(path: readonly PropertyKey[] | undefined): string {
  const last = path?.[path.length - 1];
  return last === undefined ? "" : String(last);
}

/** The message for one issue; undefined leaves zod's own (only for codes pdsim never raises). */
export function describeIssue(issue: RawIssue): string | undefined {
  const expected = describedAs(issue);
  if (issue.input === undefined && issue.code !== "custom" && (issue.path?.length ?? 0) > 0) {
    return `missing required key '${lastKey(issue.path)}'`;
  }
  switch (issue.code) {
    case "invalid_type":
      return `expected ${expected ?? TYPE_PHRASES[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case "too_small":
    case "too_big":
      return `expected ${expected ?? boundPhrase(issue)}, got ${describeValue(issue.input)}`;
    case "invalid_value": {
      const choices = issue.values.map(String);
      const hint = typeof issue.input === "string" ? didYouMean(issue.input, choices) : "";
      return `expected one of ${choices.join(", ")}, got ${describeChoice(issue.input)}${hint}`;
    }
    case "invalid_union":
      return describeUnionIssue(issue, expected);
    case "invalid_format":
      return `expected ${expected ?? "a string in the right format"}, got ${describeValue(issue.input)}`;
    case "not_multiple_of":
    case "unrecognized_keys":
    case "invalid_key":
    case "invalid_element":
    case "custom":
      return undefined;
  }
}

function describeUnionIssue(
  issue: RawIssue & { code: "invalid_union" },
  expected: string | undefined,
): string {
  const key = issue.discriminator;
  const input = issue.input;
  if (key === undefined || typeof input !== "object" || input === null || Array.isArray(input)) {
    return `expected ${expected ?? "a valid value"}, got ${describeValue(input)}`;
  }
  const options = Array.isArray(issue.options) ? issue.options.map(String) : [];
  const found: unknown = (input as Record<string, unknown>)[key];
  if (found === undefined) return `missing required key '${key}' (one of ${options.join(", ")})`;
  const hint = typeof found === "string" ? didYouMean(found, options) : "";
  return `expected ${key} to be one of ${options.join(", ")}, got ${describeChoice(found)}${hint}`;
}

/** `unknown key 'blok_size' in engine; did you mean 'block_size'?` */
export function unknownKeyMessage(
  key: string,
  objectPath: readonly PathSegment[],
  allowed: readonly string[],
): string {
  const where = objectPath.length === 0 ? "at top level" : `in ${formatPath(objectPath)}`;
  return `unknown key '${key}' ${where}${suggestOrList(key, allowed, "valid keys are")}`;
}
