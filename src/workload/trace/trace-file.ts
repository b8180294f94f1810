// A trace file as a stream of records, in file order, one line at a time; and the survey a
// replay makes of it before the run (every line checked, the window counted), so that a bad line
// ends the command before anything is simulated or written.

import { statSync } from "node:fs";
import {
  AZURE_COLUMNS,
  MOONCAKE_BLOCK_TOKENS,
  OPENAI_OUTPUT_TOKENS,
  type TraceFormat,
} from "../../scenario/trace-schema.ts";
import type { TraceWorkloadConfig } from "../../scenario/types.ts";
import { LineReader, LineTooLong, NotUtf8 } from "./line-reader.ts";
import { CsvTraceParser } from "./csv.ts";
import { parseMooncakeLine } from "./mooncake.ts";
import { parseOpenAiLine } from "./openai-jsonl.ts";
import { type TraceRecord, traceFileError, traceLineError } from "./trace-record.ts";

/** The keys of a trace config that reading its file depends on. */
export type TraceSource = Pick<
  TraceWorkloadConfig,
  "format" | "file" | "path" | "block_tokens" | "columns" | "time_unit" | "output_tokens"
>;

/**
 * A trace file read outside a scenario (`pdsim trace stats`, the guide), with each format's
 * defaults as a scenario's `workload.trace` has them; `path` is how messages name it.
 */
export function traceSourceOf(
  format: TraceFormat,
  path: string,
  file: string,
  options: Partial<Pick<TraceSource, "block_tokens" | "columns" | "time_unit">> = {},
): TraceSource {
  return {
    format,
    path,
    file,
    block_tokens: options.block_tokens ?? MOONCAKE_BLOCK_TOKENS,
    columns: options.columns ?? AZURE_COLUMNS,
    time_unit: options.time_unit ?? "auto",
    output_tokens: OPENAI_OUTPUT_TOKENS,
  };
}

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ENAMETOOLONG: "the name is too long",
  ENOTDIR: "a part of the path is not a directory",
};

/** Why a file could not be opened, from the error Node gave. */
export function openErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  return OPEN_ERRORS[code] ?? (error as Error).message;
}

/**
 * Every record of the file, in file order; blank lines are skipped. Every record has a timestamp
 * or none does. A record's text, if it has some, is not tokenized (trace-tokenizer.ts).
 */
export function* traceRecords(trace: TraceSource): Generator<TraceRecord> {
  const reader = openTrace(trace);
  const parse = lineParser(trace);
  let first: TraceRecord | null = null;
  let ordinal = 0;
  try {
    for (let line = nextLine(reader, trace); line !== null; line = nextLine(reader, trace)) {
      if (line.text.trim() === "") continue;
      const record = parse(line.number, line.text, ordinal);
      if (record === null) continue;
      first ??= record;
      if (record.timed !== first.timed) {
        throw traceLineError(
          trace.file,
          record.line,
          "timestamp",
          `${record.timed ? "is given, but line" : "is missing, but line"} ${first.line} ${first.timed ? "has one" : "has none"}; give every line a timestamp or none`,
        );
      }
      ordinal += 1;
      yield record;
    }
  } finally {
    reader.close();
  }
}

/** A line's request, or null for a line that holds none (a CSV header). */
function lineParser(
  trace: TraceSource,
): (line: number, text: string, ordinal: number) => TraceRecord | null {
  switch (trace.format) {
    case "mooncake":
      return (line, text) => parseMooncakeLine(trace.file, line, text, trace.block_tokens);
    case "csv": {
      const csv = new CsvTraceParser(trace.file, trace);
      return (line, text) => csv.parse(line, text);
    }
    case "openai-jsonl":
      return (line, text, ordinal) =>
        parseOpenAiLine(
          trace.file,
          line,
          text,
          ordinal,
          trace.output_tokens ?? OPENAI_OUTPUT_TOKENS,
        );
  }
}

function openTrace(trace: TraceSource): LineReader {
  const refuse = (reason: string) =>
    traceFileError(trace.file, `cannot read trace '${trace.path}' (${trace.file}): ${reason}`);
  try {
    const stats = statSync(trace.file);
    if (stats.isDirectory()) throw refuse("it is a directory");
    // A device or a pipe could be read for ever; a trace is a file.
    if (!stats.isFile()) throw refuse("it is not a regular file");
    return new LineReader(trace.file);
  } catch (error) {
    if (error instanceof Error && error.name === "ScenarioError") throw error;
    throw refuse(openErrorReason(error));
  }
}

function nextLine(reader: LineReader, trace: TraceSource) {
  try {
    return reader.next();
  } catch (error) {
    if (error instanceof NotUtf8) {
      throw traceLineError(
        trace.file,
        error.lineNumber,
        "",
        "the line holds a byte that is not UTF-8",
      );
    }
    if (!(error instanceof LineTooLong)) throw error;
    throw traceLineError(
      trace.file,
      error.lineNumber,
      "",
      `${error.message}; expected one record a line`,
    );
  }
}
