// `pdsim trace stats FILE`: what a trace holds, before replaying it, as numbers a reader can set
// beside a paper's workload table.

import { resolve } from "node:path";
import {
  AZURE_COLUMNS,
  type CsvColumns,
  type CsvTimeUnit,
  MOONCAKE_BLOCK_TOKENS,
  type TraceFormat,
} from "../scenario/trace-schema.ts";
import { traceSourceOf } from "../workload/trace/trace-file.ts";
import { type TraceStats, traceStats } from "../workload/trace/trace-stats.ts";
import { loadTraceTokenizer } from "../workload/trace/trace-tokenizer.ts";
import { EXIT_OK, UsageError, exitForBadInput } from "./bad-input.ts";
import type { CliIo } from "./io.ts";

export interface TraceStatsOptions {
  file: string;
  format: TraceFormat;
  blockSize: number;
  blockTokens?: number | undefined;
  /** `KEY=NAME` pairs naming a CSV trace's columns. */
  columns?: readonly string[] | undefined;
  timeUnit?: CsvTimeUnit | undefined;
  /** A tokenizer.json (openai-jsonl); default: the shipped Qwen3 one. */
  tokenizer?: string | undefined;
  json: boolean;
}

const COLUMN_KEYS = ["time", "prompt_tokens", "output_tokens", "prefix", "prefix_tokens"];

function csvColumns(pairs: readonly string[]): CsvColumns {
  const columns: Record<string, string> = { ...AZURE_COLUMNS };
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq);
    if (eq < 1 || eq === pair.length - 1 || !COLUMN_KEYS.includes(key)) {
      throw new UsageError(
        `--column takes KEY=NAME with KEY one of ${COLUMN_KEYS.join(", ")}, got '${pair}'`,
      );
    }
    columns[key] = pair.slice(eq + 1);
  }
  if ((columns.prefix === undefined) !== (columns.prefix_tokens === undefined)) {
    throw new UsageError("--column prefix=NAME and prefix_tokens=NAME go together");
  }
  return columns as unknown as CsvColumns;
}

export function traceStatsCommand(io: CliIo, opts: TraceStatsOptions): number {
  try {
    for (const [flag, value] of [
      ["--block-size", opts.blockSize],
      ["--block-tokens", opts.blockTokens ?? MOONCAKE_BLOCK_TOKENS],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new UsageError(`${flag} must be a positive integer, got ${value}`);
      }
    }
    const text = opts.format === "openai-jsonl";
    if (opts.format !== "csv" && (opts.columns !== undefined || opts.timeUnit !== undefined)) {
      throw new UsageError(
        `--column and --time-unit are for --format csv; a ${opts.format} trace has fixed fields`,
      );
    }
    if (opts.format !== "mooncake" && opts.blockTokens !== undefined) {
      const why = text ? "an openai-jsonl trace is text" : "a csv trace has no hash ids";
      throw new UsageError(`--block-tokens is for --format mooncake; ${why}`);
    }
    if (!text && opts.tokenizer !== undefined) {
      throw new UsageError(
        `--tokenizer is for --format openai-jsonl; a ${opts.format} trace is no text`,
      );
    }
    const trace = traceSourceOf(opts.format, opts.file, resolve(opts.file), {
      ...(opts.blockTokens === undefined ? {} : { block_tokens: opts.blockTokens }),
      columns: csvColumns(opts.columns ?? []),
      ...(opts.timeUnit === undefined ? {} : { time_unit: opts.timeUnit }),
    });
    const tokenizer = text
      ? loadTraceTokenizer({
          tokenizer: opts.tokenizer,
          tokenizer_file: opts.tokenizer === undefined ? undefined : resolve(opts.tokenizer),
        })
      : null;
    const stats = traceStats(trace, opts.blockSize, tokenizer);
    io.stdout.write(
      opts.json ? JSON.stringify(stats, null, 2) + "\n" : formatTraceStats(opts, stats),
    );
    return EXIT_OK;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}

function formatTraceStats(opts: TraceStatsOptions, s: TraceStats): string {
  const rate =
    s.arrival_rate_per_s === null ? "all at once" : `${s.arrival_rate_per_s.toFixed(2)} requests/s`;
  const header = ["tokens", "mean", "p50", "p90", "p99", "max"];
  const rows = [
    ["input", s.input_tokens],
    ["output", s.output_tokens],
  ] as const;
  const cells = rows.map(([name, l]) => [
    name,
    l.mean.toFixed(0),
    ...[l.p50, l.p90, l.p99, l.max].map(String),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ");
  const hit = Math.round(s.ideal_prefix_hit_ratio * s.total_input_tokens);
  return [
    `${opts.file} (${opts.format}): ${s.requests} requests over ${s.duration_s.toFixed(3)} s (${rate})`,
    line(header),
    ...cells.map(line),
    `ideal prefix hit ratio at block size ${s.block_size}: ${(100 * s.ideal_prefix_hit_ratio).toFixed(2)} % ` +
      `(${hit} of ${s.total_input_tokens} prompt tokens hit an infinite prefix cache)`,
    "",
  ].join("\n");
}
