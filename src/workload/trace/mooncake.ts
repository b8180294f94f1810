// The Mooncake trace format (FAST'25 release, kvcache-ai/Mooncake `FAST25-release/traces/`): one
// JSON object a line with `timestamp` (milliseconds), `input_length`, `output_length` and
// `hash_ids`, one id per block of the input (512 tokens in the release), the last block possibly
// partial; equal ids mean a reusable prefix. Other fields are ignored.

import {
  type TraceRecord,
  count,
  describe,
  parseJsonObject,
  traceLineError,
} from "./trace-record.ts";

export function parseMooncakeLine(
  file: string,
  line: number,
  text: string,
  blockTokens: number,
): TraceRecord {
  const fail = (field: string, message: string) => traceLineError(file, line, field, message);
  const record = parseJsonObject(text, fail);
  const timestamp = record.timestamp;
  if (typeof timestamp !== "number" || !(timestamp >= 0)) {
    throw fail(
      "timestamp",
      `expected milliseconds from the trace's start (a number ≥ 0), got ${describe(timestamp)}`,
    );
  }
  const input = count(record.input_length, 1);
  if (input === null) {
    throw fail(
      "input_length",
      `expected a whole number of prompt tokens ≥ 1, got ${describe(record.input_length)}`,
    );
  }
  const output = count(record.output_length, 1);
  if (output === null) {
    throw fail(
      "output_length",
      `expected a whole number of output tokens ≥ 1 (vLLM generates at least one), got ${describe(record.output_length)}`,
    );
  }
  const ids = record.hash_ids;
  if (!Array.isArray(ids) || !ids.every((id) => count(id, 0) !== null)) {
    throw fail("hash_ids", `expected a list of whole numbers ≥ 0, got ${describe(ids)}`);
  }
  const blocks = Math.ceil(input / blockTokens);
  if (ids.length !== blocks) {
    throw fail(
      "hash_ids",
      `holds ${ids.length} ids, but input_length ${input} is ${blocks} blocks of ${blockTokens} tokens (the last possibly partial); set block_tokens if the trace uses another block size`,
    );
  }
  return {
    line,
    timeS: timestamp / 1000,
    timed: true,
    promptTokens: input,
    outputTokens: output,
    blockIds: ids as number[],
    prefix: null,
    text: null,
    tokenIds: null,
  };
}
