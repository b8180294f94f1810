// Trace files in CSV: a header row, then one request a row with its arrival time and its prompt
// and output token counts, in columns the scenario names (by default the Azure LLM inference
// traces' TIMESTAMP, ContextTokens, GeneratedTokens). Fields may be quoted; a field holding a
// line break is not supported (no trace of numbers and times has one). Optional prefix columns
// say which shared prefix a prompt starts with and how long it is; without them nothing is shared.

import type { CsvColumns, CsvTimeUnit } from "../../scenario/trace-schema.ts";
import { type TraceRecord, traceLineError } from "./trace-record.ts";

const UNIT_SECONDS: Record<Exclude<CsvTimeUnit, "datetime" | "auto">, number> = {
  s: 1,
  ms: 1e-3,
  us: 1e-6,
};

export interface CsvOptions {
  columns: CsvColumns;
  time_unit: CsvTimeUnit;
}

/** Reads the rows of one file: the first line given is its header. */
export class CsvTraceParser {
  private index: Record<keyof CsvColumns, number> | null = null;
  /** Fields a row needs: one past the last column the header names. */
  private width = 0;

  constructor(
    private readonly file: string,
    private readonly options: CsvOptions,
  ) {}

  /** The row's request, or null for the header. */
  parse(line: number, text: string): TraceRecord | null {
    const fail = (field: string, message: string) =>
      traceLineError(this.file, line, field, message);
    const fields = splitCsvLine(text);
    if (fields === null) throw fail("", "a quoted field is not closed on its line");
    if (this.index === null) {
      this.index = this.headerIndex(line, fields);
      this.width = Math.max(...Object.values(this.index)) + 1;
      return null;
    }
    const cell = (key: keyof CsvColumns): string | undefined => {
      const at = this.index![key];
      return at < 0 ? undefined : fields[at];
    };
    const columns = this.options.columns;
    const named = (key: keyof CsvColumns) => `${columns[key]}`;
    if (fields.length < this.width) {
      throw fail(
        "",
        `expected at least ${this.width} fields as the header names, got ${fields.length}`,
      );
    }
    const timeS = this.parseTime(cell("time")!, (m) => fail(named("time"), m));
    const promptTokens = wholeNumber(cell("prompt_tokens")!, 1);
    if (promptTokens === null) {
      throw fail(
        named("prompt_tokens"),
        `expected a whole number of prompt tokens ≥ 1, got ${quote(cell("prompt_tokens")!)}`,
      );
    }
    const outputTokens = wholeNumber(cell("output_tokens")!, 1);
    if (outputTokens === null) {
      throw fail(
        named("output_tokens"),
        `expected a whole number of output tokens ≥ 1 (vLLM generates at least one), got ${quote(cell("output_tokens")!)}`,
      );
    }
    let prefix: TraceRecord["prefix"] = null;
    const group = cell("prefix");
    if (group !== undefined && group !== "") {
      const tokens = wholeNumber(cell("prefix_tokens")!, 1);
      if (tokens === null || tokens > promptTokens) {
        throw fail(
          named("prefix_tokens"),
          `expected a whole number of shared tokens from 1 to the prompt's ${promptTokens}, got ${quote(cell("prefix_tokens")!)}`,
        );
      }
      prefix = { group, tokens };
    }
    return {
      line,
      timeS,
      timed: true,
      promptTokens,
      outputTokens,
      blockIds: null,
      prefix,
      text: null,
      tokenIds: null,
    };
  }

  private headerIndex(line: number, header: string[]): Record<keyof CsvColumns, number> {
    const columns = this.options.columns;
    const find = (key: keyof CsvColumns, required: boolean): number => {
      const name = columns[key];
      if (name === undefined) return -1;
      const at = header.findIndex((h) => h.trim() === name);
      if (at < 0 && required) {
        throw traceLineError(
          this.file,
          line,
          "",
          `the header has no column '${name}' (columns.${key}); it has ${header.map((h) => `'${h}'`).join(", ")}`,
        );
      }
      return at;
    };
    return {
      time: find("time", true),
      prompt_tokens: find("prompt_tokens", true),
      output_tokens: find("output_tokens", true),
      prefix: find("prefix", true),
      prefix_tokens: find("prefix_tokens", true),
    };
  }

  private parseTime(text: string, fail: (message: string) => Error): number {
    const unit = this.options.time_unit;
    const trimmed = text.trim();
    if (unit === "datetime" || (unit === "auto" && !NUMBER.test(trimmed))) {
      const seconds = parseDateTime(trimmed);
      if (seconds === null) {
        throw fail(
          `expected a date and time such as 2023-11-16 18:15:46.68 (UTC unless it carries an offset)${unit === "auto" ? " or a number of seconds" : ""}, got ${quote(text)}`,
        );
      }
      return seconds;
    }
    const value = NUMBER.test(trimmed) ? Number(trimmed) : NaN;
    if (!(value >= 0) || !Number.isFinite(value)) {
      const name = unit === "auto" ? "s" : unit;
      throw fail(`expected a time in ${name} (a number ≥ 0), got ${quote(text)}`);
    }
    return value * UNIT_SECONDS[unit === "auto" ? "s" : unit];
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Seconds since the epoch of an ISO-like date and time, with as many fractional digits as given. */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // A leap second (second 60) has no place on the simulated clock: refused like any bad time.
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day) return null; // 2023-02-30
  const zone = m[8];
  let offsetS = 0;
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetS = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  return ms / 1000 - offsetS + (m[7] === undefined ? 0 : Number(`0${m[7]}`));
}

/** The fields of one CSV line (RFC 4180 quoting); null when a quote is left open. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i += 1;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) return null;
        value += line.slice(i, close);
        if (line[close + 1] === '"') {
          value += '"';
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      const comma = line.indexOf(",", i);
      // Anything between the closing quote and the comma is kept, as spreadsheets do.
      value += line.slice(i, comma < 0 ? line.length : comma);
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = line.indexOf(",", i);
      fields.push(line.slice(i, comma < 0 ? line.length : comma));
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

function wholeNumber(text: string, min: number): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min ? value : null;
}

function quote(text: string): string {
  return text.length > 40 ? `'${text.slice(0, 37)}...'` : `'${text}'`;
}
