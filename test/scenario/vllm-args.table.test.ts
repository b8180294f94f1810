// Each mapped flag and the engine key it sets, written out by hand: the round-trip property test
// reads ENGINE_KEY_FLAGS as the reader does, so only a table like this one catches a flag mapped
// to the wrong key.
import { expect, it } from "vitest";
import { readVllmArgs } from "../../src/scenario/vllm-args.ts";

const ROWS: readonly [string, Record<string, number | boolean>][] = [
  ["--block-size 32", { block_size: 32 }],
  ["--num-gpu-blocks-override 5000", { num_gpu_blocks: 5000 }],
  ["--max-model-len 16384", { max_model_len: 16384 }],
  ["--max-num-batched-tokens 4096", { max_num_batched_tokens: 4096 }],
  ["--max-num-seqs 64", { max_num_seqs: 64 }],
  ["--enable-prefix-caching", { enable_prefix_caching: true }],
  ["--no-enable-prefix-caching", { enable_prefix_caching: false }],
  ["--enable-chunked-prefill", { enable_chunked_prefill: true }],
  ["--no-enable-chunked-prefill", { enable_chunked_prefill: false }],
  ["--long-prefill-token-threshold 512", { long_prefill_token_threshold: 512 }],
  ["--gpu-memory-utilization 0.85", { gpu_memory_utilization: 0.85 }],
  ["--tensor-parallel-size 4", { tensor_parallel_size: 4 }],
  ["-tp 2", { tensor_parallel_size: 2 }],
  // A repeated flag: the last wins.
  ["--max-num-seqs 8 --max-num-seqs 16", { max_num_seqs: 16 }],
  // An abbreviation: a unique prefix of the long name.
  ["--max-num-batched 2048", { max_num_batched_tokens: 2048 }],
  ["--gpu-mem 0.5", { gpu_memory_utilization: 0.5 }],
  // Underscores for dashes, and the = form.
  ["--max_model_len=1024", { max_model_len: 1024 }],
  ["--long_prefill_token_threshold 0", { long_prefill_token_threshold: 0 }],
  // vLLM's human-readable lengths: k is 1,000, K is 1,024.
  ["--max-model-len 8k", { max_model_len: 8000 }],
  ["--max-model-len 8K", { max_model_len: 8192 }],
  ["--max-num-batched-tokens 2k", { max_num_batched_tokens: 2000 }],
  ["--max-num-batched-tokens 2K", { max_num_batched_tokens: 2048 }],
];

it.each(ROWS)("reads %s as %j", (text, engine) => {
  const read = readVllmArgs(text);
  if (!read.ok) throw new Error(`'${text}' did not read: ${read.messages.join("; ")}`);
  expect(read.args.engine).toEqual(engine);
});
