// One request as a trace records it, whatever the file's format, and the error a line that
// cannot be read raises.

import { ScenarioError } from "../../scenario/index.ts";

export interface TraceRecord {
  /** The line of the file it came from (1-based). */
  line: number;
  /** Arrival on the trace's own clock, in seconds (any origin; the replay starts at the first). */
  timeS: number;
  promptTokens: number;
  outputTokens: number;
  /**
   * The prompt's blocks, `blockTokens` tokens each and the last possibly partial: equal ids at
   * the same place mean equal tokens up to there (Mooncake's `hash_ids`). Null: nothing shared.
   */
  blockIds: readonly number[] | null;
  /** A named prefix the prompt starts with, shared with every prompt naming it (CSV). */
  prefix: { group: string; tokens: number } | null;
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
