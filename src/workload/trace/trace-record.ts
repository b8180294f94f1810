// One request as a trace records it, whatever the file's format, the error a line that cannot be
// read raises, and the checks of one JSON line that the formats share.

import { ScenarioError } from "../../scenario/index.ts";

/** One message of a chat (openai-jsonl's `messages`). */
export interface ChatMessage {
  role: string;
  content: string;
}

/** A request's text (openai-jsonl): a completion's prompt, or a chat's messages. */
export type TraceText = { prompt: string } | { messages: readonly ChatMessage[] };

export interface TraceRecord {
  /** The line of the file it came from (1-based). */
  line: number;
  /**
   * Arrival on the trace's own clock, in seconds (any origin; the replay starts at the first).
   * A line with no timestamp (`timed` false) has its place among the records instead: 0, 1, 2, …
   */
  timeS: number;
  /** Whether the line gave its arrival time; in a trace, every line does or none does. */
  timed: boolean;
  /** The prompt's length; for a record with `text`, 0 until it is tokenized (`tokenIds`). */
  promptTokens: number;
  outputTokens: number;
  /**
   * The prompt's blocks, `blockTokens` tokens each and the last possibly partial: equal ids at
   * the same place mean equal tokens up to there (Mooncake's `hash_ids`). Null: nothing shared.
   */
  blockIds: readonly number[] | null;
  /** A named prefix the prompt starts with, shared with every prompt naming it (CSV). */
  prefix: { group: string; tokens: number } | null;
  /** The request's text, for a format that records text; null for one that records counts. */
  text: TraceText | null;
  /** The prompt's token ids, once `text` is tokenized (trace-tokenizer.ts); null before. */
  tokenIds: Int32Array | null;
}

/** A problem with one line of a trace file: file, line and field, as a scenario's problems read. */
export function traceLineError(
  file: string,
  line: number,
  field: string,
  message: string,
): ScenarioError {
  return new ScenarioError([{ file, line, column: 1, path: field, message }]);
}

/** A problem with the trace file as a whole (missing, empty, unreadable). */
export function traceFileError(file: string, message: string): ScenarioError {
  return new ScenarioError([{ file, line: 0, column: 0, path: "", message }]);
}

/** The error of a field of one line. */
export type LineFail = (field: string, message: string) => ScenarioError;

/** The line as a JSON object, or the error that says why it is not one. */
export function parseJsonObject(text: string, fail: LineFail): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fail("", `expected one JSON object a line: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("", `expected a JSON object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A safe integer ≥ min, or null. */
export function count(value: unknown, min: number): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min ? value : null;
}

/** A value as an error message shows what it got: its JSON, cut to 60 characters. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
