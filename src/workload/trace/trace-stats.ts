// What a trace holds, as a paper's workload table gives it: requests, duration, arrival rate,
// prompt and output lengths, and the ideal prefix reuse, the share of prompt tokens an infinite
// prefix cache would serve, with vLLM's rules: whole blocks only, and never the prompt's last
// token (a full hit recomputes it, so at most ⌊(N−1)/B⌋·B of N tokens hit). A text trace's
// reuse comes from its token ids, as vLLM finds it: a request hits the leading full blocks whose
// chained hashes an earlier request's prompt had.

import type { BlockHash } from "../../engine/block-hash.ts";
import { Prompt } from "../../engine/prompt.ts";
import { traceRecords, type TraceSource } from "./trace-file.ts";
import { type TraceTokenizer, tokenized } from "./trace-tokenizer.ts";

export interface LengthStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface TraceStats {
  requests: number;
  /** From the first arrival to the last; 0 for a trace with no timestamps. */
  duration_s: number;
  /** Requests over duration; null for a trace whose requests all arrive at once. */
  arrival_rate_per_s: number | null;
  mean_input_tokens: number;
  mean_output_tokens: number;
  input_tokens: LengthStats;
  output_tokens: LengthStats;
  total_input_tokens: number;
  /** The block size the ideal reuse assumes (vLLM's block_size). */
  block_size: number;
  /** Prompt tokens an infinite cache would hit over all prompt tokens; 0 with no block ids or text. */
  ideal_prefix_hit_ratio: number;
}

/**
 * Reads the trace once, tokenizing a text trace with `tokenizer`; memory grows with its distinct
 * blocks and named prefixes and its request count only.
 */
export function traceStats(
  trace: TraceSource,
  blockSize: number,
  tokenizer: TraceTokenizer | null = null,
): TraceStats {
  const inputs = new GrowableArray();
  const outputs = new GrowableArray();
  const seen = new Set<number>();
  const seenHashes = new Set<BlockHash>();
  /** Per named prefix, the longest run of its tokens a prompt has held so far. */
  const prefixes = new Map<string, number>();
  let first = 0;
  let last = 0;
  let timed = true;
  let hits = 0;
  let total = 0;
  for (const read of traceRecords(trace)) {
    const record = read.text === null ? read : tokenized(read, tokenizer!, trace.file);
    if (inputs.length === 0) first = record.timeS;
    last = record.timeS;
    timed = record.timed;
    const n = record.promptTokens;
    inputs.push(n);
    outputs.push(record.outputTokens);
    total += n;
    if (record.tokenIds !== null) {
      // Leading full blocks whose chained hash an earlier prompt had; then this prompt's join them.
      const hashes = Prompt.of(record.tokenIds).blockHashes(blockSize);
      let k = 0;
      while (k < hashes.length && seenHashes.has(hashes[k]!)) k += 1;
      for (const hash of hashes) seenHashes.add(hash);
      hits += Math.min(k * blockSize, Math.floor((n - 1) / blockSize) * blockSize);
      continue;
    }
    let sharedTokens = 0;
    const ids = record.blockIds;
    if (ids !== null) {
      let k = 0;
      while (k < ids.length && seen.has(ids[k]!)) k += 1;
      for (const id of ids) seen.add(id);
      sharedTokens = k * trace.block_tokens;
    } else if (record.prefix !== null) {
      const { group, tokens } = record.prefix;
      const before = prefixes.get(group) ?? 0;
      sharedTokens = Math.min(before, tokens);
      prefixes.set(group, Math.max(before, tokens));
    }
    // Tokens shared with earlier prompts, in whole blocks of the cache, leaving the last token.
    const shared = Math.min(sharedTokens, n - 1);
    hits += Math.floor(shared / blockSize) * blockSize;
  }
  const requests = inputs.length;
  // A trace with no timestamps is sent all at once (or at rate_per_s, which is the replay's).
  const duration = timed ? last - first : 0;
  return {
    requests,
    duration_s: duration,
    arrival_rate_per_s: duration > 0 ? requests / duration : null,
    mean_input_tokens: requests === 0 ? 0 : total / requests,
    mean_output_tokens: requests === 0 ? 0 : outputs.sum() / requests,
    input_tokens: lengthStats(inputs),
    output_tokens: lengthStats(outputs),
    total_input_tokens: total,
    block_size: blockSize,
    ideal_prefix_hit_ratio: total === 0 ? 0 : hits / total,
  };
}

function lengthStats(values: GrowableArray): LengthStats {
  const sorted = values.sorted();
  const n = sorted.length;
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const at = (q: number) => (n === 0 ? 0 : sorted[Math.max(0, Math.ceil(q * n) - 1)]!);
  return {
    mean: n === 0 ? 0 : values.sum() / n,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: n === 0 ? 0 : sorted[n - 1]!,
  };
}

/** Token counts of a million requests in 8 MB, not a million boxed numbers. */
class GrowableArray {
  private values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  sum(): number {
    let s = 0;
    for (let i = 0; i < this.length; i++) s += this.values[i]!;
    return s;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}
