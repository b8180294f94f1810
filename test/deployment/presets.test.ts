import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kvBytesPerToken, parameterCount } from "../../src/deployment/model-config.ts";
import { GPU_PRESET_NAMES, GPU_PRESETS } from "../../src/deployment/gpu-presets.ts";
import { MODEL_PRESET_NAMES, MODEL_PRESETS } from "../../src/deployment/model-presets.ts";
import { parseScenario, ScenarioError } from "../../src/scenario/index.ts";
import { DEFAULT_KV_BYTES_PER_TOKEN } from "../../src/scenario/schema.ts";
import { pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

describe("model presets", () => {
  it.each(MODEL_PRESET_NAMES)(
    "%s has the parameters its model card publishes, within 2 %",
    (name) => {
      const preset = MODEL_PRESETS[name];
      const counted = parameterCount(preset.config);
      const { total, active } = preset.publishedParameters;
      expect(Math.abs(counted.total / 1e9 - total) / total).toBeLessThan(0.02);
      expect(Math.abs(counted.active / 1e9 - active) / active).toBeLessThan(0.02);
    },
  );

  it("include the default model, whose KV bytes per token the scenarios have always used", () => {
    expect(kvBytesPerToken(MODEL_PRESETS["qwen3-0.6b"].config, "auto")).toBe(
      DEFAULT_KV_BYTES_PER_TOKEN,
    );
  });
});

function load(model: string) {
  return parseScenario(
    [
      "instances: [{ name: u, role: unified }]",
      `model: ${model}`,
      "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
    ].join("\n"),
    path.join(dir, "s.yaml"),
  ).model;
}

describe("a scenario's model", () => {
  it("takes a preset's KV bytes per token and name, fp8 halving the bytes", () => {
    // Llama 3.1 70B: 80 layers × 2 × 8 KV heads × (8192 / 64 = 128) × 2 bytes.
    expect(load("{ preset: llama-3.1-70b }")).toMatchObject({
      name: "meta-llama/Llama-3.1-70B",
      kv_bytes_per_token: 80 * 2 * 8 * 128 * 2,
      source: { kind: "preset", name: "llama-3.1-70b" },
    });
    expect(load("{ preset: llama-3.1-70b, cache_dtype: fp8 }").kv_bytes_per_token).toBe(
      80 * 2 * 8 * 128,
    );
    expect(load("{ preset: deepseek-v3, name: dsv3 }")).toMatchObject({
      name: "dsv3",
      kv_bytes_per_token: 61 * (512 + 64) * 2,
    });
    expect(load("{ preset: qwen3-8b, kv_bytes_per_token: 1000 }").kv_bytes_per_token).toBe(1000);
  });

  it("reads a config.json beside the scenario", () => {
    fs.writeFileSync(
      path.join(dir, "tiny.json"),
      JSON.stringify({
        architectures: ["LlamaForCausalLM"],
        hidden_size: 256,
        intermediate_size: 512,
        num_hidden_layers: 4,
        num_attention_heads: 8,
        num_key_value_heads: 2,
        vocab_size: 1000,
        torch_dtype: "float16",
      }),
    );
    // 4 layers × 2 × 2 KV heads × (256 / 8 = 32) × 2 bytes.
    expect(load("{ config: tiny.json }")).toMatchObject({
      name: "Qwen/Qwen3-0.6B",
      kv_bytes_per_token: 4 * 2 * 2 * 32 * 2,
      source: { kind: "config", name: "tiny.json" },
    });
  });

  it("refuses an unknown preset, listing the known ones, and a config.json without the fields", async () => {
    const unknown = await pdsim(
      "run",
      writeScenario(dir, "u.yaml", [
        "instances: [{ name: u, role: unified }]",
        "model: { preset: gpt-5 }",
        "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
      ]),
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(
      `model.preset: expected one of ${MODEL_PRESET_NAMES.join(", ")}`,
    );
    fs.writeFileSync(path.join(dir, "half.json"), JSON.stringify({ hidden_size: 256 }));
    expect(() => load("{ config: half.json }")).toThrow(ScenarioError);
    expect(() => load("{ config: half.json }")).toThrow(
      "model.config: 'half.json' is not a config.json pdsim can use: intermediate_size is missing; num_hidden_layers is missing; num_attention_heads is missing; vocab_size is missing",
    );
    expect(() => load("{ config: none.json }")).toThrow(
      /model\.config: no config\.json at 'none\.json'/,
    );
    expect(() => load("{ preset: qwen3-8b, config: tiny.json }")).toThrow(
      "model.config: a model is a preset or a config.json, not both",
    );
  });
});

describe("GPUs", () => {
  function gpus(lines: readonly string[]) {
    return parseScenario(
      [
        ...lines,
        "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
      ].join("\n"),
      path.join(dir, "g.yaml"),
    ).instances.map((i) => i.gpu);
  }

  it("come from a preset or their figures, the scenario's unless an instance names its own", () => {
    const [p, d, u] = gpus([
      "gpu: { preset: h100-sxm }",
      "instances:",
      "  - { name: p, role: prefill }",
      "  - { name: d, role: decode, gpu: { preset: a100-80gb } }",
      "  - { name: u, role: unified, gpu: { memory_gb: 24, memory_bandwidth_tb_s: 1.008, bf16_tflops: 165.2 } }",
    ]);
    expect(p).toEqual(GPU_PRESETS["h100-sxm"]);
    expect(d).toMatchObject({ name: "a100-80gb", memory_gb: 80, fp8_tflops: null });
    expect(u).toEqual({
      name: "custom",
      memory_gb: 24,
      memory_bandwidth_tb_s: 1.008,
      bf16_tflops: 165.2,
      fp8_tflops: null,
      source: "the scenario",
    });
    expect(gpus(["instances: [{ name: u, role: unified }]"])).toEqual([undefined]);
  });

  it("keep the datasheets' dense figures: half the with-sparsity ones where those are printed", () => {
    expect(GPU_PRESETS["h100-sxm"].bf16_tflops * 2).toBe(1979);
    expect(GPU_PRESETS.h200.fp8_tflops * 2).toBe(3958);
    for (const name of GPU_PRESET_NAMES)
      expect(GPU_PRESETS[name].source).toMatch(/datasheet|data sheet/);
  });

  it("refuse an unknown preset, listing the known ones, and figures that are missing", () => {
    expect(() =>
      gpus(["gpu: { preset: b300 }", "instances: [{ name: u, role: unified }]"]),
    ).toThrow(`gpu.preset: expected one of ${GPU_PRESET_NAMES.join(", ")}`);
    expect(() =>
      gpus(["gpu: { memory_gb: 80 }", "instances: [{ name: u, role: unified }]"]),
    ).toThrow("gpu.memory_bandwidth_tb_s: missing 'memory_bandwidth_tb_s'");
    expect(() =>
      gpus(["gpu: { preset: h200, memory_gb: 96 }", "instances: [{ name: u, role: unified }]"]),
    ).toThrow("gpu.memory_gb: a GPU is a preset or its figures, not both");
  });
});
