// A prompt that leaves no room within max_model_len is refused by the front end, as vLLM's
// HTTP 400: finish reason `error` in requests.jsonl, and no engine metric moves for it.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJsonLines, pdsim, removeDir, scratchDir, writeScenario } from "./cli.ts";

let dir = "";
let out = "";
let status: number | null = null;

beforeAll(async () => {
  dir = scratchDir();
  out = path.join(dir, "out");
  const scenario = writeScenario(dir, "too-long.yaml", [
    "engine: { block_size: 16, num_gpu_blocks: 64, max_model_len: 256 }",
    "instances:",
    "  - { name: unified-0, role: unified }",
    "workload:",
    "  requests:",
    "    - { id: fits, at_s: 0, prompt_tokens: 100, max_tokens: 4 }",
    "    - { id: too-long, at_s: 0.1, prompt_tokens: 300, max_tokens: 4 }",
    "    - { id: fills-context, at_s: 0.2, prompt_tokens: 256, max_tokens: 4 }",
    "    - { id: also-fits, at_s: 0.3, prompt_tokens: 255, max_tokens: 4 }",
  ]);
  status = (await pdsim("run", scenario, "--quiet", "--out", out)).status;
});
afterAll(() => removeDir(dir));

describe("a prompt longer than max_model_len", () => {
  it("is refused with finish reason error in requests.jsonl", () => {
    expect(status).toBe(0);
    const records = Object.fromEntries(
      readJsonLines(path.join(out, "requests.jsonl")).map((r) => [r.id as string, r]),
    );
    expect(records["too-long"]).toMatchObject({
      finish_reason: "error",
      prompt_tokens: 300,
      first_token_s: null,
      legs: [
        {
          instance: "unified-0",
          finish_reason: "error",
          num_output_tokens: 0,
          truth: null,
          reported: null,
          error: expect.stringContaining(
            "(length 300) is longer than the maximum model length of 256",
          ),
        },
      ],
    });
    // vLLM refuses a prompt that fills the context too: no room is left for an output token.
    expect(records["fills-context"]).toMatchObject({
      finish_reason: "error",
      legs: [
        {
          error: expect.stringContaining("(length 256) plus the number of requested output tokens"),
        },
      ],
    });
    expect(records["fits"]).toMatchObject({ finish_reason: "length" });
    expect(records["also-fits"]).toMatchObject({ finish_reason: "length" });
  });

  it("moves no engine metric: the exported counts are those of the requests that fit", () => {
    const prom = fs.readFileSync(path.join(out, "metrics", "unified-0.prom"), "utf8");
    const value = (sample: string): number => {
      const line = prom.split("\n").find((l) => l.startsWith(`${sample} `));
      if (line === undefined) throw new Error(`no sample ${sample}`);
      return Number(line.slice(sample.length + 1));
    };
    const labels = 'model_name="Qwen/Qwen3-0.6B",engine="0"';
    expect({
      error: value(`vllm:request_success_total{${labels},finished_reason="error"}`),
      length: value(`vllm:request_success_total{${labels},finished_reason="length"}`),
      promptTokens: value(`vllm:prompt_tokens_total{${labels}}`),
      prefixCacheQueries: value(`vllm:prefix_cache_queries_total{${labels}}`),
      requestsWithPrompt: value(`vllm:request_prompt_tokens_count{${labels}}`),
    }).toEqual({
      error: 0,
      length: 2,
      promptTokens: 100 + 255,
      prefixCacheQueries: 100 + 255,
      requestsWithPrompt: 2,
    });
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as {
      requests: { by_finish_reason: Record<string, number> };
    };
    expect(summary.requests.by_finish_reason).toEqual({ stop: 0, length: 2, abort: 0, error: 2 });
  });
});
