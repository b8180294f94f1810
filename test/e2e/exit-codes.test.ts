// `pdsim run` exits 0 on success, 1 when an expectation fails and 2 on bad input, and bad input
// gets a message that places the problem, never a stack trace.
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectBadInput, pdsim, removeDir, scratchDir, writeScenario } from "./cli.ts";

/** A valid scenario; the cases below change one line of it, so its line numbers matter. */
const BASE = [
  "name: tiny", // 1
  "seed: 3", // 2
  "engine:", // 3
  "  block_size: 16", // 4
  "  num_gpu_blocks: 64", // 5
  "  max_model_len: 512", // 6
  "instances:", // 7
  "  - { name: unified-0, role: unified }", // 8
  "workload:", // 9
  "  requests:", // 10
  "    - { id: r1, at_s: 0, prompt_tokens: 40, max_tokens: 4 }", // 11
  "    - { id: r2, at_s: 0.1, prompt_tokens: 60, max_tokens: 4 }", // 12
  "    - { id: r3, at_s: 0.2, prompt_from: r1, max_tokens: 4 }", // 13
] as const;

/** BASE with line `line` (1-based) replaced by `text`, and `extra` lines appended. */
function variant(line: number, text: string, extra: readonly string[] = []): string[] {
  const lines: string[] = [...BASE];
  lines[line - 1] = text;
  return [...lines, ...extra];
}

let dir = "";
let base = "";

beforeAll(() => {
  dir = scratchDir();
  base = writeScenario(dir, "base.yaml", BASE);
});
afterAll(() => removeDir(dir));

describe("pdsim run exit codes", () => {
  it("exits 0 when the run succeeds and every expectation holds", async () => {
    const file = writeScenario(dir, "passing.yaml", [
      ...BASE,
      "expect:",
      '  - { instance: unified-0, metric: "vllm:request_success_total", equals: 3 }',
    ]);
    const result = await pdsim("run", file, "--quiet");
    expect(result.stderr).not.toMatch(/^ {4}at /m);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("3 requests arrived, 3 finished");
    expect(result.stdout).toContain("expectations: 1 passed, 0 failed");
  });

  it("exits 1 when an expectation fails, naming it and its actual value on stdout", async () => {
    const file = writeScenario(dir, "failing.yaml", [
      ...BASE,
      "expect:",
      '  - { instance: unified-0, metric: "vllm:request_success_total", equals: 3 }',
      '  - { instance: unified-0, metric: "vllm:prompt_tokens_total", max: 100 }',
    ]);
    const result = await pdsim("run", file, "--quiet");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("expectations: 1 passed, 1 failed");
    // r1 (40) + r2 (60) + r3 (r1's 40 again) prompt tokens.
    expect(result.stdout).toContain("FAILED unified-0 vllm:prompt_tokens_total: expected");
    expect(result.stdout).toMatch(/FAILED unified-0 vllm:prompt_tokens_total: .*got 140$/m);
    expect(result.stdout).not.toContain("FAILED unified-0 vllm:request_success_total");
  });
});

describe("pdsim run exits 2 on bad input, with the place of the problem and no stack trace", () => {
  it("a scenario file that does not exist", async () => {
    const missing = path.join(dir, "absent.yaml");
    expectBadInput(await pdsim("run", missing), missing, "no such file");
  });

  it("a YAML syntax error", async () => {
    const file = writeScenario(dir, "syntax.yaml", variant(4, "  block_size: 16: 3"));
    expectBadInput(await pdsim("run", file), `${file}:4:`);
  });

  it("an unknown key, with the key it was probably meant to be", async () => {
    const file = writeScenario(dir, "unknown-key.yaml", variant(5, "  num_gpu_blokcs: 64"));
    expectBadInput(
      await pdsim("run", file),
      `${file}:5:`,
      "num_gpu_blokcs",
      "did you mean 'num_gpu_blocks'?",
    );
  });

  it("a value of the wrong type", async () => {
    const file = writeScenario(dir, "wrong-type.yaml", variant(4, "  block_size: sixteen"));
    expectBadInput(await pdsim("run", file), `${file}:4:`, "engine.block_size", "sixteen");
  });

  it("an impossible value: block_size 0", async () => {
    const file = writeScenario(dir, "zero-block.yaml", variant(4, "  block_size: 0"));
    expectBadInput(await pdsim("run", file), `${file}:4:`, "engine.block_size", "got 0");
  });

  it("an expectation naming an unknown instance", async () => {
    const file = writeScenario(dir, "expect-instance.yaml", [
      ...BASE,
      "expect:",
      '  - { instance: unified-9, metric: "vllm:request_success_total", equals: 3 }',
    ]);
    expectBadInput(
      await pdsim("run", file),
      `${file}:15:`,
      "unified-9",
      "did you mean 'unified-0'?",
    );
  });

  it("an expectation naming a metric the instance does not export", async () => {
    const file = writeScenario(dir, "expect-metric.yaml", [
      ...BASE,
      "expect:",
      '  - { instance: unified-0, metric: "vllm:request_sucess_total", equals: 3 }',
    ]);
    expectBadInput(
      await pdsim("run", file),
      `${file}:15:`,
      "vllm:request_sucess_total",
      "did you mean 'vllm:request_success_total'?",
    );
  });

  it("a decode instance without a prefill instance", async () => {
    const file = writeScenario(dir, "d-only.yaml", [
      ...BASE.slice(0, 7),
      "  - { name: decode-0, role: decode }", // 8
      ...BASE.slice(8),
    ]);
    expectBadInput(await pdsim("run", file), `${file}:8:`, "decode");
  });

  it("a KV link with zero bandwidth", async () => {
    const file = writeScenario(dir, "zero-bw.yaml", [
      ...BASE.slice(0, 7),
      "  - { name: prefill-0, role: prefill }", // 8
      "  - { name: decode-0, role: decode }", // 9
      ...BASE.slice(8),
      "kv_transfer: { connector: nixl, link: { bandwidth_gb_per_s: 0 } }", // 15
    ]);
    expectBadInput(
      await pdsim("run", file),
      `${file}:15:`,
      "bandwidth_gb_per_s",
      "from 0.000001",
      "got 0",
    );
  });

  it("a --seed that is not a non-negative integer", async () => {
    expectBadInput(await pdsim("run", base, "--seed", "abc"), "--seed", "'abc'");
  });

  it("a --seed without a value", async () => {
    expectBadInput(await pdsim("run", base, "--seed"), "--seed");
  });

  it("an unknown --profile", async () => {
    expectBadInput(
      await pdsim("run", base, "--profile", "vllm-latest"),
      "vllm-latest",
      "vllm-pr37460",
    );
  });

  it("an unknown command", async () => {
    expectBadInput(await pdsim("frobnicate", base), "frobnicate");
  });

  it("an unknown option", async () => {
    expectBadInput(await pdsim("run", base, "--sede", "4"), "sede");
  });
});
