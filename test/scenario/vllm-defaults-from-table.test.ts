// The vLLM defaults an instance with vllm_args starts from are the flag table's `default` fields.
import { describe, expect, it } from "vitest";
import { VLLM_SERVE_FLAGS } from "../../src/deployment/vllm-serve-flags.ts";
import { parseScenario } from "../../src/scenario/index.ts";
import { vllmFlagDefaults } from "../../src/scenario/instance-engine.ts";

describe("vLLM's defaults for an instance with vllm_args", () => {
  it("are read from a flag table's default fields", () => {
    const table = VLLM_SERVE_FLAGS.map((f) =>
      f.name === "--block-size" ? { ...f, default: 32 } : f,
    );
    expect(vllmFlagDefaults(table)).toEqual({
      block_size: 32,
      enable_prefix_caching: true,
      enable_chunked_prefill: true,
      long_prefill_token_threshold: 0,
      gpu_memory_utilization: 0.9,
      tensor_parallel_size: 1,
    });
  });

  it("are the table's for every key they give, marked as vLLM's", () => {
    const s = parseScenario(
      [
        "instances:",
        "  - { name: a, role: unified, vllm_args: --port 1 }",
        "workload: { requests: [{ id: r, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
        "",
      ].join("\n"),
      "s.yaml",
    );
    const a = s.instances[0]!;
    const defaults = Object.entries(vllmFlagDefaults(VLLM_SERVE_FLAGS)) as [
      keyof typeof a.engine,
      number | boolean,
    ][];
    for (const [key, value] of defaults) {
      expect(a.engine[key], key).toBe(value);
      expect(a.engine_from?.[key], key).toBe("vllm default");
    }
  });
});
