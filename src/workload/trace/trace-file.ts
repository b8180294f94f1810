// A trace file as a stream of records, in file order, one line at a time; and the survey a
// replay makes of it before the run (every line checked, the window counted), so that a bad line
// ends the command before anything is simulated or written.

import { statSync } from "node:fs";
import type { TraceWorkloadConfig } from "../../scenario/types.ts";
import { LineReader, LineTooLong } from "./line-reader.ts";
import { CsvTraceParser } from "./csv.ts";
import { parseMooncakeLine } from "./mooncake.ts";
import { type TraceRecord, traceFileError, traceLineError } from "./trace-record.ts";

/** The keys of a trace config that reading its file depends on. */
export type TraceSource = Pick<
  TraceWorkloadConfig,
  "format" | "file" | "path" | "block_tokens" | "columns" | "time_unit"
>;

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ENAMETOOLONG: "the name is too long",
  ENOTDIR: "a part of the path is not a directory",
};

/** Every record of the file, in file order; blank lines are skipped. */
export function* traceRecords(trace: TraceSource): Generator<TraceRecord> {
  const reader = openTrace(trace);
  const parse = lineParser(trace);
  try {
    for (let line = nextLine(reader, trace); line !== null; line = nextLine(reader, trace)) {
      if (line.text.trim() === "") continue;
      const record = parse(line.number, line.text);
      if (record !== null) yield record;
    }
  } finally {
    reader.close();
  }
}

/** A line's request, or null for a line that holds none (a CSV header). */
function lineParser(trace: TraceSource): (line: number, text: string) => TraceRecord | null {
  switch (trace.format) {
    case "mooncake":
      return (line, text) => parseMooncakeLine(trace.file, line, text, trace.block_tokens);
    case "csv": {
      const csv = new CsvTraceParser(trace.file, trace);
      return (line, text) => csv.parse(line, text);
    }
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
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw refuse(OPEN_ERRORS[code] ?? (error as Error).message);
  }
}

function nextLine(reader: LineReader, trace: TraceSource) {
  try {
    return reader.next();
  } catch (error) {
    if (!(error instanceof LineTooLong)) throw error;
    throw traceLineError(
      trace.file,
      error.lineNumber,
      "",
      `${error.message}; expected one record a line`,
    );
  }
}
