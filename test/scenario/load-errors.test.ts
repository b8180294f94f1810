import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario, ScenarioError } from "../../src/scenario/index.ts";
import { columnOf, issuesOf, lines, onlyIssue, PD_BASE } from "./helpers.ts";

function loadError(file: string): ScenarioError {
  try {
    loadScenario(file);
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error(`expected ${file} to be rejected`);
}

describe("files that cannot be read or parsed", () => {
  it("reports a missing file by name, without a line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "pdsim-")), "nowhere.yaml");
    const error = loadError(file);
    expect(error.issues).toEqual([
      {
        file,
        line: 0,
        column: 0,
        path: "",
        message: `cannot read scenario '${file}': no such file or directory`,
      },
    ]);
    expect(error.format()).toBe(`cannot read scenario '${file}': no such file or directory`);
  });

  it("reports a directory given as the scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "pdsim-"));
    expect(loadError(dir).issues[0]?.message).toBe(
      `cannot read scenario '${dir}': it is a directory`,
    );
  });

  it("reports a YAML syntax error at yaml's line and column", () => {
    const issue = onlyIssue(lines("instances:", "  - { name: p, role: prefill", "workload: {}"));
    expect(issue).toMatchObject({ file: "s.yaml", line: 3, column: 1, path: "" });
    expect(issue.message).toMatch(/flow map/i);
  });

  it("reports a key given twice as a YAML error at the second one", () => {
    const issue = onlyIssue(lines(...PD_BASE, "seed: 1", "seed: 2"));
    expect(issue).toMatchObject({ line: 8, column: 1, path: "" });
    expect(issue.message).toMatch(/unique/);
  });

  it("rejects an empty file and a file that is not a mapping", () => {
    expect(onlyIssue("# nothing here\n")).toMatchObject({ line: 1, column: 1 });
    expect(onlyIssue("# nothing here\n").message).toContain("empty");
    const list = onlyIssue(lines("- instances"));
    expect(list).toMatchObject({ line: 1, column: 1, path: "" });
    expect(list.message).toBe(
      "expected a mapping of scenario keys (instances, workload, ...), got a list",
    );
  });
});

describe("unknown keys", () => {
  it("points at an unknown top-level key and suggests the nearest valid one", () => {
    expect(onlyIssue(lines(...PD_BASE, "sed: 3"))).toEqual({
      file: "s.yaml",
      line: 7,
      column: 1,
      path: "sed",
      message: "unknown key 'sed' at top level; did you mean 'seed'?",
    });
  });

  it("points at an unknown nested key and suggests the nearest valid one", () => {
    expect(onlyIssue(lines("engine:", "  blok_size: 16", ...PD_BASE))).toEqual({
      file: "s.yaml",
      line: 2,
      column: 3,
      path: "engine.blok_size",
      message: "unknown key 'blok_size' in engine; did you mean 'block_size'?",
    });
  });

  it("points at an unknown key inside a list item", () => {
    const item = "    - { id: r1, at_s: 0, prompt_tokens: 17, max_tokns: 5 }";
    const issues = issuesOf(lines(...PD_BASE.slice(0, 5), item));
    expect(issues).toEqual([
      {
        file: "s.yaml",
        line: 6,
        column: columnOf(item, "{"),
        path: "workload.requests[0].max_tokens",
        message: "missing required key 'max_tokens'",
      },
      {
        file: "s.yaml",
        line: 6,
        column: columnOf(item, "max_tokns"),
        path: "workload.requests[0].max_tokns",
        message: "unknown key 'max_tokns' in workload.requests[0]; did you mean 'max_tokens'?",
      },
    ]);
  });

  it("lists the valid keys when no key is close", () => {
    const issue = onlyIssue(lines("proxy: { zebra: 1 }", ...PD_BASE));
    expect(issue).toMatchObject({ line: 1, column: 10, path: "proxy.zebra" });
    expect(issue.message).toBe(
      "unknown key 'zebra' in proxy; valid keys are prefill_policy, decode_policy, unified_policy, pd_min_prompt_tokens",
    );
  });

  it("reports each unknown key of one mapping on its own line", () => {
    const issues = issuesOf(lines("model:", "  nme: x", "  kv_bytes: 2", ...PD_BASE));
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [2, "model.nme"],
      [3, "model.kv_bytes"],
    ]);
    expect(issues[1]?.message).toContain("did you mean 'kv_bytes_per_token'?");
  });
});

describe("wrong types and enum values", () => {
  it("says what type was expected and what was found", () => {
    const stepTime = "  step_time: { base_ms: fast }";
    expect(onlyIssue(lines("model:", stepTime, ...PD_BASE))).toEqual({
      file: "s.yaml",
      line: 2,
      column: columnOf(stepTime, "fast"),
      path: "model.step_time.base_ms",
      message: "expected a number of milliseconds from 0 to 60000, got string 'fast'",
    });
  });

  it("names a boolean setting's expected values", () => {
    const issue = onlyIssue(lines("engine: { enable_prefix_caching: yes }", ...PD_BASE));
    expect(issue).toMatchObject({ line: 1, column: 34, path: "engine.enable_prefix_caching" });
    expect(issue.message).toBe("expected true or false, got string 'yes'");
  });

  it("lists the choices of an enum and suggests the closest", () => {
    const issue = onlyIssue(lines(...PD_BASE, "kv_transfer: { connector: nixel }"));
    expect(issue).toMatchObject({ line: 7, column: 27, path: "kv_transfer.connector" });
    expect(issue.message).toBe(
      "expected one of nixl, p2p_nccl, none, offloading, lmcache, multi, got 'nixel'; did you mean 'nixl'?",
    );
  });

  it("rejects an unknown accounting profile", () => {
    const issue = onlyIssue(lines(...PD_BASE, "metrics: { profile: vllm-pr99999 }"));
    expect(issue).toMatchObject({ line: 7, column: 21, path: "metrics.profile" });
    expect(issue.message).toContain("expected one of vllm-pre33290, vllm-pr33290");
  });

  it.each([
    ["2026-13-01T00:00:00Z", "a month that does not exist"],
    ["2026-01-01 00:00:00", "no T and no Z"],
    ["2026-01-01T00:00:00+02:00", "an offset instead of UTC"],
    ["2026-01-01T00:00:00.1234Z", "more than milliseconds"],
  ])("rejects the time series start %s (%s)", (start) => {
    const issue = onlyIssue(lines(...PD_BASE, `metrics: { start_time: "${start}" }`));
    expect(issue).toMatchObject({ line: 7, column: 24, path: "metrics.start_time" });
    expect(issue.message).toBe("expected a UTC time such as '2026-01-01T00:00:00Z'");
  });

  it("rejects a scrape interval that is not positive", () => {
    const issue = onlyIssue(lines(...PD_BASE, "metrics: { scrape_interval_s: 0 }"));
    expect(issue).toMatchObject({ line: 7, path: "metrics.scrape_interval_s" });
    expect(issue.message).toBe(
      "expected a number of seconds from 0.001 to 100000000 (about 3 years), got 0",
    );
  });

  it("reports an unknown distribution kind at its dist key", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 4),
        "  num_requests: 3",
        "  arrival: { process: poisson, rate_per_s: 2 }",
        "  prompt_tokens: { dist: gaussian, mean: 10, sigma: 1 }",
        "  max_tokens: { dist: constant, value: 4 }",
      ),
    );
    expect(issue).toMatchObject({ line: 7, column: 26, path: "workload.prompt_tokens.dist" });
    expect(issue.message).toContain("expected dist to be one of constant, uniform");
    expect(issue.message).toContain("got 'gaussian'");
  });

  it("reports a missing required key at the mapping that lacks it", () => {
    const issue = onlyIssue(lines("instances:", "  - { name: p }", ...PD_BASE.slice(3)));
    expect(issue).toEqual({
      file: "s.yaml",
      line: 2,
      column: 5,
      path: "instances[0].role",
      message: "missing required key 'role'",
    });
  });

  it("requires instances and workload", () => {
    const issues = issuesOf(lines("seed: 1"));
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([
      [1, "instances", "missing required key 'instances'"],
      [1, "workload", "missing required key 'workload'"],
    ]);
  });

  it("rejects an instance name that cannot name an output file", () => {
    const issue = onlyIssue(
      lines("instances: [{ name: 'decode 0', role: unified }]", ...PD_BASE.slice(3)),
    );
    expect(issue).toMatchObject({ line: 1, column: 21, path: "instances[0].name" });
    expect(issue.message).toContain("got string 'decode 0'");
  });
});

describe("impossible values", () => {
  it("rejects a block size of zero", () => {
    expect(onlyIssue(lines("engine:", "  block_size: 0", ...PD_BASE))).toEqual({
      file: "s.yaml",
      line: 2,
      column: 15,
      path: "engine.block_size",
      message:
        "expected a block size vLLM takes (1, 8, 16, 32, 64, 128, 256; pdsim also takes 2 and 4), got 0",
    });
  });

  it("rejects a negative arrival rate", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 4),
        "  num_requests: 3",
        "  arrival: { process: poisson, rate_per_s: -5 }",
        "  prompt_tokens: { dist: constant, value: 10 }",
        "  max_tokens: { dist: constant, value: 4 }",
      ),
    );
    expect(issue).toMatchObject({ line: 6, column: 44, path: "workload.arrival.rate_per_s" });
    expect(issue.message).toBe(
      "expected a number of requests per second from 0.00000003 (one a year) to 1000000000, got -5",
    );
  });

  it("rejects num_gpu_blocks too small for one max_model_len request, counting the null block", () => {
    const issue = onlyIssue(
      lines(
        "engine: { max_model_len: 1024 }",
        "instances:",
        "  - { name: p, role: prefill }",
        "  - { name: d, role: decode, engine: { num_gpu_blocks: 64 } }",
        ...PD_BASE.slice(3),
      ),
    );
    expect(issue).toMatchObject({
      line: 4,
      column: 56,
      path: "instances[1].engine.num_gpu_blocks",
    });
    expect(issue.message).toContain(
      "num_gpu_blocks 64 cannot hold one request of max_model_len 1024",
    );
    expect(issue.message).toContain("ceil(1024 / 16) = 64 blocks");
    expect(issue.message).toContain("null block");
    expect(issue.message).toContain("at least 65");
  });

  it("accepts num_gpu_blocks exactly one more than a max_model_len request needs", () => {
    const text = lines("engine: { max_model_len: 1024, num_gpu_blocks: 65 }", ...PD_BASE);
    expect(parseScenario(text, "s.yaml").instances[0]?.engine.num_gpu_blocks).toBe(65);
  });

  it("reports a too-small top-level num_gpu_blocks once, at the top-level key", () => {
    const issue = onlyIssue(lines("engine:", "  num_gpu_blocks: 100", ...PD_BASE));
    expect(issue).toMatchObject({ line: 2, column: 19, path: "engine.num_gpu_blocks" });
    expect(issue.message).toContain("at least 513");
  });

  it("rejects max_num_batched_tokens below max_num_seqs", () => {
    const issue = onlyIssue(
      lines("engine: { max_num_batched_tokens: 128, max_model_len: 128 }", ...PD_BASE),
    );
    expect(issue).toMatchObject({ line: 1, column: 35, path: "engine.max_num_batched_tokens" });
    expect(issue.message).toContain("max_num_batched_tokens 128 is smaller than max_num_seqs 256");
  });

  it("rejects chunked prefill off with a token budget below max_model_len", () => {
    const instance =
      "  - { name: d2, role: decode, engine: { enable_chunked_prefill: false, max_num_batched_tokens: 4096 } }";
    const issue = onlyIssue(lines(...PD_BASE.slice(0, 3), instance, ...PD_BASE.slice(3)));
    expect(issue).toMatchObject({
      line: 4,
      column: columnOf(instance, "4096"),
      path: "instances[2].engine.max_num_batched_tokens",
    });
    expect(issue.message).toContain("enable_chunked_prefill false");
    expect(issue.message).toContain(
      "max_num_batched_tokens 4096 is smaller than max_model_len 8192",
    );
  });

  it("does not reject an explicit prompt longer than max_model_len", () => {
    // vLLM rejects such a request when it arrives (finish reason 'error'); the run models that.
    const request = "    - { id: r1, at_s: 0, prompt_tokens: 99999, max_tokens: 5 }";
    const scenario = parseScenario(lines(...PD_BASE.slice(0, 5), request), "s.yaml");
    expect(scenario.workload).toMatchObject({ requests: [{ prompt_tokens: 99999 }] });
  });

  it("rejects min above max in a distribution and a token count of zero", () => {
    const prompt = "  prompt_tokens: { dist: normal, mean: 100, sigma: 10, min: 50, max: 20 }";
    const max = "  max_tokens: { dist: constant, value: 0 }";
    const issues = issuesOf(
      lines(
        ...PD_BASE.slice(0, 4),
        "  num_requests: 3",
        "  arrival: { process: poisson, rate_per_s: 2 }",
        prompt,
        max,
      ),
    );
    expect(issues.map((i) => [i.line, i.column, i.path, i.message])).toEqual([
      [
        7,
        columnOf(prompt, "20"),
        "workload.prompt_tokens.max",
        "expected max to be at least min (50), got 20",
      ],
      [
        8,
        columnOf(max, "0 }"),
        "workload.max_tokens.value",
        "expected a token count (a positive integer), got 0",
      ],
    ]);
  });

  it("rejects empirical weights that do not match the values", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 4),
        "  num_requests: 3",
        "  arrival: { process: constant, interval_s: 1 }",
        "  prompt_tokens: { dist: empirical, values: [10, 20], weights: [1] }",
        "  max_tokens: { dist: constant, value: 4 }",
      ),
    );
    expect(issue).toMatchObject({ line: 7, column: 64, path: "workload.prompt_tokens.weights" });
    expect(issue.message).toBe("expected one weight per value (2), got 1");
  });

  it("rejects a prefix longer than its prompt", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 5),
        "    - { id: r1, at_s: 0, prompt_tokens: 100, prefix: { group: sys, tokens: 240 }, max_tokens: 5 }",
      ),
    );
    expect(issue).toMatchObject({
      line: 6,
      column: 76,
      path: "workload.requests[0].prefix.tokens",
    });
    expect(issue.message).toBe("expected prefix tokens at most prompt_tokens (100), got 240");
  });

  it("rejects prefill instances with no decode instance, and connector none with P/D", () => {
    const issues = issuesOf(
      lines(
        "instances: [{ name: p, role: prefill }]",
        "kv_transfer: { connector: none }",
        ...PD_BASE.slice(3),
      ),
    );
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [1, "instances[0].role"],
      [2, "kv_transfer.connector"],
    ]);
    expect(issues[0]?.message).toContain("needs a decode instance");
    expect(issues[1]?.message).toContain("connector none cannot move KV");
  });
});

describe("the two workload forms", () => {
  it("rejects a workload that mixes explicit requests with generator keys", () => {
    const issue = onlyIssue(lines(...PD_BASE, "  num_requests: 5"));
    expect(issue).toMatchObject({ line: 5, column: 3, path: "workload.requests" });
    expect(issue.message).toContain("either explicit requests or a generator, not both");
    expect(issue.message).toContain("'num_requests'");
  });

  it("rejects a workload with neither form", () => {
    const issue = onlyIssue(lines(...PD_BASE.slice(0, 3), "workload: {}"));
    expect(issue).toMatchObject({ line: 4, column: 11, path: "workload" });
    expect(issue.message).toContain("needs 'requests' (explicit requests), 'trace'");
  });

  it("rejects a trace beside another workload form", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 3),
        "workload:",
        "  trace: { format: mooncake, path: t.jsonl }",
        "  requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }]",
      ),
    );
    expect(issue).toMatchObject({ line: 5, path: "workload.trace" });
    expect(issue.message).toContain("remove 'trace' or 'requests'");
  });

  it("names each generator key a partial generator lacks", () => {
    const issues = issuesOf(lines(...PD_BASE.slice(0, 4), "  num_requests: 5", "  start_s: 1"));
    expect(issues.map((i) => [i.line, i.column, i.path])).toEqual([
      [4, 1, "workload.arrival"],
      [4, 1, "workload.prompt_tokens"],
      [4, 1, "workload.max_tokens"],
    ]);
    expect(issues[0]?.message).toBe(
      "missing required key 'arrival' of a generated workload (or list 'requests' instead)",
    );
  });
});

describe("names and references", () => {
  it("rejects an expectation naming an unknown instance and suggests the nearest", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE,
        "expect:",
        "  - { instance: decode-1, metric: 'vllm:num_requests_running', max: 1 }",
      ),
    );
    expect(issue).toEqual({
      file: "s.yaml",
      line: 8,
      column: 17,
      path: "expect[0].instance",
      message: "no instance named 'decode-1'; did you mean 'decode-0'?",
    });
  });

  it("lists the instances when an expectation's instance is not close to any", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE,
        "expect:",
        "  - { instance: zzz, metric: 'vllm:num_requests_running', max: 1 }",
      ),
    );
    expect(issue.message).toBe("no instance named 'zzz'; instances are prefill-0, decode-0");
  });

  it("rejects duplicate instance names at the second one", () => {
    const issue = onlyIssue(
      lines(...PD_BASE.slice(0, 3), "  - { name: prefill-0, role: decode }", ...PD_BASE.slice(3)),
    );
    expect(issue).toEqual({
      file: "s.yaml",
      line: 4,
      column: 13,
      path: "instances[2].name",
      message: "duplicate instance name 'prefill-0': instances[0] already uses it",
    });
  });

  it("rejects duplicate request ids, a number and a string alike", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 5),
        "    - { id: 7, at_s: 0, prompt_tokens: 17, max_tokens: 5 }",
        "    - { id: '7', at_s: 1, prompt_tokens: 17, max_tokens: 5 }",
      ),
    );
    expect(issue).toMatchObject({ line: 7, column: 13, path: "workload.requests[1].id" });
    expect(issue.message).toBe("duplicate request id '7': requests[0] already uses it");
  });

  it("rejects prompt_from naming an unknown request", () => {
    const issue = onlyIssue(
      lines(...PD_BASE, "    - { id: r2, at_s: 1, prompt_from: r9, max_tokens: 5 }"),
    );
    expect(issue).toMatchObject({ line: 7, column: 39, path: "workload.requests[1].prompt_from" });
    expect(issue.message).toBe("prompt_from 'r9' names no request in the list");
  });

  it("rejects prompt_from naming a later request", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE.slice(0, 5),
        "    - { id: r0, at_s: 0, prompt_from: r1, max_tokens: 5 }",
        PD_BASE[5],
      ),
    );
    expect(issue).toMatchObject({ line: 6, column: 39, path: "workload.requests[0].prompt_from" });
    expect(issue.message).toContain("names requests[1], which comes later");
  });

  it("rejects a request with both prompt_tokens and prompt_from, or with neither", () => {
    const both = "    - { id: r2, at_s: 1, prompt_tokens: 3, prompt_from: r1, max_tokens: 5 }";
    const issues = issuesOf(lines(...PD_BASE, both, "    - { id: r3, at_s: 1, max_tokens: 5 }"));
    expect(issues.map((i) => [i.line, i.column, i.path, i.message])).toEqual([
      [
        7,
        columnOf(both, "r1"),
        "workload.requests[1].prompt_from",
        "a request takes prompt_tokens or prompt_from, not both",
      ],
      [8, 7, "workload.requests[2]", "a request needs prompt_tokens or prompt_from, got neither"],
    ]);
  });
});

describe("expectation selectors", () => {
  it.each([
    ["'9lives'", "'9lives' is not a metric name"],
    [`'vllm:x{source=~"a"}'`, "only '=' matchers are supported"],
    [`'vllm:x{source="a"'`, "lack a '}'"],
    [`'vllm:x{source=a}'`, `expected label="value"`],
    [`'vllm:x{a="1" b="2"}'`, "expected ',' or '}'"],
  ])("rejects the selector %s", (selector, reason) => {
    const issue = onlyIssue(
      lines(...PD_BASE, "expect:", `  - { instance: decode-0, metric: ${selector}, equals: 1 }`),
    );
    expect(issue).toMatchObject({ line: 8, column: 35, path: "expect[0].metric" });
    expect(issue.message).toContain(`got ${selector}`);
    expect(issue.message).toContain(reason);
  });

  it("rejects an expectation with no bound", () => {
    const issue = onlyIssue(
      lines(...PD_BASE, "expect:", "  - { instance: decode-0, metric: 'vllm:x' }"),
    );
    expect(issue).toMatchObject({ line: 8, column: 5, path: "expect[0]" });
    expect(issue.message).toBe("an expectation needs at least one of equals, min, max");
  });
});

describe("the step-time model", () => {
  it("refuses a key of the other model, saying which model it belongs to", () => {
    const issue = onlyIssue(lines("model: { step_time: { overhead_ms: 2 } }", ...PD_BASE));
    expect(issue).toMatchObject({ line: 1, path: "model.step_time.overhead_ms" });
    expect(issue.message).toBe(
      "'overhead_ms' belongs to the roofline step-time model; this one is linear (add model: roofline)",
    );
    const roofline = onlyIssue(
      lines(
        "model: { preset: qwen3-8b, step_time: { model: roofline, base_ms: 2 } }",
        "gpu: { preset: h100-sxm }",
        ...PD_BASE,
      ),
    );
    expect(roofline).toMatchObject({ line: 1, path: "model.step_time.base_ms" });
    expect(roofline.message).toContain(
      "belongs to the linear step-time model; this one is roofline",
    );
  });

  it("needs a model's shapes and each instance's GPU for the roofline", () => {
    const noGpu = onlyIssue(
      lines("model: { preset: qwen3-8b, step_time: { model: roofline } }", ...PD_BASE),
    );
    expect(noGpu).toMatchObject({ line: 3, path: "instances.prefill-0" });
    expect(noGpu.message).toBe(
      "step_time model roofline needs a GPU (gpu, for the scenario or the instance); instance 'prefill-0' has none",
    );
    const noModel = onlyIssue(
      lines("model: { step_time: { model: roofline } }", "gpu: { preset: h100-sxm }", ...PD_BASE),
    );
    expect(noModel.message).toMatch(
      /^step_time model roofline needs a model preset or config\.json/,
    );
  });
});

describe("max_model_len against a cache sized from memory", () => {
  it("checks the derived blocks, not the default 8,192, when a GPU and a model size the cache", () => {
    const text = lines(
      "model: { preset: llama-3.1-8b }",
      "gpu: { preset: h100-sxm }",
      "engine: { max_model_len: 131072 }",
      ...PD_BASE,
    );
    const blocks = parseScenario(text, "s.yaml").instances[0]!.engine.num_gpu_blocks;
    expect(blocks).toBeGreaterThan(131072 / 16 + 1);
    // Without the GPU the default pool is what runs, and it is too small.
    const issue = onlyIssue(
      lines("model: { preset: llama-3.1-8b }", "engine: { max_model_len: 131072 }", ...PD_BASE),
    );
    expect(issue.message).toMatch(
      /^num_gpu_blocks 8192 cannot hold one request of max_model_len 131072/,
    );
  });
});
