import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ENGINE,
  loadScenario,
  parseScenario,
  type Scenario,
} from "../../src/scenario/index.ts";
import { DESIGN_EXAMPLE } from "./fixtures/design-example.ts";
import { lines, PD_BASE } from "./helpers.ts";

const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("loadScenario on valid files", () => {
  it("resolves the DESIGN.md example with every value it sets", () => {
    const scenario = parseScenario(DESIGN_EXAMPLE, "scenarios/pd-basic.yaml");
    expect(scenario.file).toBe("scenarios/pd-basic.yaml");
    expect(scenario.name).toBe("pd-basic");
    expect(scenario.description).toBe("One prefill and one decode instance.");
    expect(scenario.seed).toBe(1);
    expect(scenario.model).toEqual({
      name: "Qwen/Qwen3-0.6B",
      kv_bytes_per_token: 114688,
      kv_bytes_from: "given",
      cache_dtype: "auto",
      step_time: {
        model: "linear",
        base_ms: 4,
        per_prefill_token_us: 25,
        per_decode_seq_us: 30,
        per_context_token_ns: 0,
      },
    });
    // The example states every engine key it knew of, at its default (decode-0 overrides one).
    const everyKey = Object.keys(DEFAULT_ENGINE).filter(
      (k) => k !== "gpu_memory_utilization" && k !== "tensor_parallel_size",
    );
    const step_time = {
      kind: "linear",
      baseMs: 4,
      perPrefillTokenUs: 25,
      perDecodeSeqUs: 30,
      perContextTokenNs: 0,
    };
    expect(scenario.instances).toEqual([
      {
        name: "prefill-0",
        role: "prefill",
        engine: DEFAULT_ENGINE,
        engine_given: everyKey,
        step_time,
        line: 17,
      },
      {
        name: "decode-0",
        role: "decode",
        engine: { ...DEFAULT_ENGINE, num_gpu_blocks: 16384 },
        engine_given: everyKey,
        step_time,
        line: 18,
      },
    ]);
    expect(scenario.kv_transfer).toEqual({
      connector: "nixl",
      link: { latency_ms: 0.5, bandwidth_gb_per_s: 25 },
      load_failure_policy: "fail",
      faults: { load_failure_probability: 0 },
      lease_s: 30,
    });
    expect(scenario.proxy).toEqual({
      prefill_policy: "round_robin",
      decode_policy: "round_robin",
      unified_policy: "round_robin",
      pd_min_prompt_tokens: 0,
    });
    expect(scenario.workload).toEqual({
      kind: "generated",
      concurrency: null,
      num_requests: 1000,
      arrival: { process: "poisson", rate_per_s: 5 },
      prompt_tokens: { dist: "lognormal", mean: 1024, sigma: 0.6, min: 16, max: 8192 },
      max_tokens: { dist: "constant", value: 128 },
      shared_prefix: { groups: 8, tokens: 512, probability: 0.7 },
      start_s: 0,
    });
    expect(scenario.metrics).toEqual({
      profile: "vllm-pr37460",
      model_name: "Qwen/Qwen3-0.6B",
      scrape_interval_s: 15,
      start_time: "2026-01-01T00:00:00Z",
      job: "pdsim",
    });
    expect(scenario.expect).toEqual([
      {
        instance: "decode-0",
        metric: 'vllm:prompt_tokens_by_source_total{source="external_kv_transfer"}',
        selector: {
          name: "vllm:prompt_tokens_by_source_total",
          labels: { source: "external_kv_transfer" },
        },
        equals: 10,
        tolerance: 0,
        line: 39,
      },
    ]);
  });

  it("reads the same scenario from a file, whatever its layout", () => {
    const fromText = parseScenario(DESIGN_EXAMPLE, "pd-basic.yaml");
    const fromFile = loadScenario(fixture("pd-basic.yaml"));
    const withoutLines = (s: Scenario): unknown => ({
      ...s,
      file: "",
      instances: s.instances.map((i) => ({ ...i, line: 0 })),
      expect: s.expect.map((e) => ({ ...e, line: 0 })),
    });
    expect(withoutLines(fromFile)).toEqual(withoutLines(fromText));
    expect(fromFile.instances.map((i) => i.line)).toEqual([21, 22]);
  });

  it("fills every documented default into a file with only instances and workload", () => {
    const scenario = loadScenario(fixture("minimal.yaml"));
    const expected: Scenario = {
      file: fixture("minimal.yaml"),
      name: "minimal",
      description: "",
      lesson: "",
      seed: 0,
      model: {
        name: "Qwen/Qwen3-0.6B",
        kv_bytes_per_token: 114688,
        kv_bytes_from: "default",
        cache_dtype: "auto",
        step_time: {
          model: "linear",
          base_ms: 4,
          per_prefill_token_us: 25,
          per_decode_seq_us: 30,
          per_context_token_ns: 0,
        },
      },
      instances: [
        {
          name: "solo",
          role: "unified",
          engine: {
            block_size: 16,
            num_gpu_blocks: 8192,
            max_model_len: 8192,
            max_num_batched_tokens: 8192,
            max_num_seqs: 256,
            enable_prefix_caching: true,
            enable_chunked_prefill: true,
            long_prefill_token_threshold: 0,
            log_stats_interval_s: 10,
            gpu_memory_utilization: 0.9,
            tensor_parallel_size: 1,
          },
          step_time: {
            kind: "linear",
            baseMs: 4,
            perPrefillTokenUs: 25,
            perDecodeSeqUs: 30,
            perContextTokenNs: 0,
          },
          line: 2,
        },
      ],
      kv_transfer: {
        connector: "none",
        link: { latency_ms: 0.5, bandwidth_gb_per_s: 25 },
        load_failure_policy: "fail",
        faults: { load_failure_probability: 0 },
        lease_s: 30,
      },
      kv_cache_tiers: [],
      proxy: {
        prefill_policy: "round_robin",
        decode_policy: "round_robin",
        unified_policy: "round_robin",
        pd_min_prompt_tokens: 0,
      },
      workload: {
        kind: "explicit",
        concurrency: null,
        requests: [
          { id: "r1", at_s: 0, prompt_tokens: 17, max_tokens: 5, line: 5 },
          { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 5, line: 6 },
          {
            id: "r3",
            at_s: 2,
            prompt_tokens: 300,
            prefix: { group: "sys", tokens: 240 },
            max_tokens: 5,
            line: 7,
          },
        ],
      },
      metrics: {
        profile: "vllm-pr37460",
        model_name: "Qwen/Qwen3-0.6B",
        scrape_interval_s: 15,
        start_time: "2026-01-01T00:00:00Z",
        job: "pdsim",
      },
      expect: [],
    };
    expect(scenario).toEqual(expected);
  });

  it("merges engine settings: defaults, then the top-level engine, then the instance's own", () => {
    const scenario = parseScenario(
      lines(
        "engine: { block_size: 32, max_num_seqs: 64 }",
        "instances:",
        "  - { name: p, role: prefill, engine: { max_num_seqs: 8, enable_prefix_caching: false } }",
        "  - { name: d, role: decode }",
        ...PD_BASE.slice(3),
      ),
      "merge.yaml",
    );
    expect(scenario.instances.map((i) => i.engine)).toEqual([
      { ...DEFAULT_ENGINE, block_size: 32, max_num_seqs: 8, enable_prefix_caching: false },
      { ...DEFAULT_ENGINE, block_size: 32, max_num_seqs: 64 },
    ]);
  });

  it("defaults the connector to none when every instance is unified and to nixl otherwise", () => {
    const unified = parseScenario(
      lines("instances:", "  - { name: a, role: unified }", ...PD_BASE.slice(3)),
      "u.yaml",
    );
    const disaggregated = parseScenario(lines(...PD_BASE), "pd.yaml");
    const mixed = parseScenario(
      lines(...PD_BASE.slice(0, 3), "  - { name: u, role: unified }", ...PD_BASE.slice(3)),
      "m.yaml",
    );
    expect(unified.kv_transfer.connector).toBe("none");
    expect(disaggregated.kv_transfer.connector).toBe("nixl");
    expect(mixed.kv_transfer.connector).toBe("nixl");
  });

  it("accepts a connector and its settings on a cluster of unified instances", () => {
    const scenario = parseScenario(
      lines(
        "instances: [{ name: a, role: unified }]",
        "kv_transfer: { connector: p2p_nccl, lease_s: 5, link: { latency_ms: 2 } }",
        ...PD_BASE.slice(3),
      ),
      "u.yaml",
    );
    expect(scenario.kv_transfer).toMatchObject({
      connector: "p2p_nccl",
      lease_s: 5,
      link: { latency_ms: 2, bandwidth_gb_per_s: 25 },
    });
  });

  it("names the scenario after the file and the metrics after the model unless told otherwise", () => {
    const scenario = parseScenario(
      lines("model: { name: meta-llama/Llama-3.1-8B }", ...PD_BASE),
      "dir/some.scenario.yaml",
    );
    expect(scenario.name).toBe("some.scenario");
    expect(scenario.metrics.model_name).toBe("meta-llama/Llama-3.1-8B");
  });

  it("keeps request ids as strings and records each request's line", () => {
    const scenario = parseScenario(
      lines(
        ...PD_BASE.slice(0, 5),
        "    - { id: 1, at_s: 0, prompt_tokens: 9000, max_tokens: 5, output_tokens: 3 }",
        "    - id: 2",
        "      at_s: 0.5",
        "      prompt_from: 1",
        "      max_tokens: 7",
      ),
      "ids.yaml",
    );
    // A prompt longer than max_model_len is vLLM's run-time rejection, not a load error.
    expect(scenario.workload).toEqual({
      kind: "explicit",
      concurrency: null,
      requests: [
        { id: "1", at_s: 0, prompt_tokens: 9000, max_tokens: 5, output_tokens: 3, line: 6 },
        { id: "2", at_s: 0.5, prompt_from: "1", max_tokens: 7, line: 7 },
      ],
    });
  });

  it("resolves a generated workload with a constant arrival and optional output lengths", () => {
    const scenario = parseScenario(
      lines(
        ...PD_BASE.slice(0, 4),
        "  num_requests: 3",
        "  arrival: { process: constant, interval_s: 0.25 }",
        "  prompt_tokens: { dist: uniform, min: 10, max: 20 }",
        "  max_tokens: { dist: empirical, values: [8, 16], weights: [3, 1] }",
        "  output_tokens: { dist: exponential, mean: 6, min: 1 }",
        "  start_s: 2",
      ),
      "gen.yaml",
    );
    expect(scenario.workload).toEqual({
      kind: "generated",
      concurrency: null,
      num_requests: 3,
      arrival: { process: "constant", interval_s: 0.25 },
      prompt_tokens: { dist: "uniform", min: 10, max: 20 },
      max_tokens: { dist: "empirical", values: [8, 16], weights: [3, 1] },
      output_tokens: { dist: "exponential", mean: 6, min: 1 },
      start_s: 2,
    });
  });

  it("parses expectation selectors and defaults the tolerance to zero", () => {
    const scenario = parseScenario(
      lines(
        ...PD_BASE,
        "expect:",
        "  - { instance: prefill-0, metric: 'vllm:time_to_first_token_seconds_count', min: 1, max: 2 }",
        "  - instance: decode-0",
        `    metric: 'vllm:x_total{a="1", b="q\\"uote"}'`,
        "    equals: 3",
        "    tolerance: 0.5",
      ),
      "e.yaml",
    );
    expect(scenario.expect).toEqual([
      {
        instance: "prefill-0",
        metric: "vllm:time_to_first_token_seconds_count",
        selector: { name: "vllm:time_to_first_token_seconds_count", labels: {} },
        min: 1,
        max: 2,
        tolerance: 0,
        line: 8,
      },
      {
        instance: "decode-0",
        metric: 'vllm:x_total{a="1", b="q\\"uote"}',
        selector: { name: "vllm:x_total", labels: { a: "1", b: 'q"uote' } },
        equals: 3,
        tolerance: 0.5,
        line: 9,
      },
    ]);
  });
});
