import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/index.ts";
import type { InstanceConfig, Scenario } from "../../src/scenario/types.ts";
import { issuesOf, lines, onlyIssue } from "./helpers.ts";

const WORKLOAD = [
  "workload:",
  "  requests:",
  "    - { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 }",
] as const;

const NIXL = (role: string): string =>
  `--kv-transfer-config '{"kv_connector":"NixlConnector","kv_role":"${role}"}'`;

function scenario(...text: string[]): Scenario {
  return parseScenario(lines(...text, ...WORKLOAD), "s.yaml");
}

function unified(...text: string[]): InstanceConfig {
  return scenario(...text, "instances:", "  - { name: u, role: unified }").instances[0]!;
}

describe("vllm_args in a scenario", () => {
  it("reads a folded or literal block scalar with backslash line ends", () => {
    for (const style of [">-", "|"]) {
      const instance = unified(
        `vllm_args: ${style}`,
        "  vllm serve Qwen/Qwen3-0.6B --max-num-seqs 32 \\",
        "    --block-size 32 \\",
        "    --port 8000",
      );
      expect(instance.engine).toMatchObject({ max_num_seqs: 32, block_size: 32 });
      expect(instance.vllm_args_ignored).toEqual(["--port"]);
    }
  });

  it("orders the levels: engine, vllm_args, instance engine, instance vllm_args", () => {
    const s = scenario(
      "engine: { block_size: 8, max_model_len: 1024 }",
      "vllm_args: --max-num-seqs 20 --max-num-batched-tokens 4096",
      "instances:",
      "  - { name: a, role: unified }",
      "  - { name: b, role: unified, engine: { max_num_seqs: 30, max_num_batched_tokens: 2048 } }",
      "  - name: c",
      "    role: unified",
      "    engine: { max_num_batched_tokens: 1024 }",
      "    vllm_args: --max-num-seqs 40 --block-size 32",
    );
    expect(s.instances.map((i) => i.engine.max_num_seqs)).toEqual([20, 30, 40]);
    expect(s.instances.map((i) => i.engine.max_num_batched_tokens)).toEqual([4096, 2048, 1024]);
    expect(s.instances.map((i) => i.engine.block_size)).toEqual([8, 8, 32]);
    expect(s.instances[2]!.engine_from).toMatchObject({
      max_num_seqs: "vllm_args",
      block_size: "vllm_args",
      max_num_batched_tokens: "engine",
      enable_prefix_caching: "vllm default",
      max_model_len: "engine",
      log_stats_interval_s: "default",
    });
  });

  it("gives an instance with vllm_args vLLM 0.19's batch defaults for its GPU", () => {
    const on = (gpu: string): InstanceConfig =>
      unified(`gpu: { preset: ${gpu} }`, "engine: { num_gpu_blocks: 9000 }", "vllm_args: --port 1");
    expect(on("h100-sxm").engine).toMatchObject({
      max_num_seqs: 1024,
      max_num_batched_tokens: 8192,
    });
    expect(on("a100-80gb").engine).toMatchObject({
      max_num_seqs: 256,
      max_num_batched_tokens: 2048,
    });
    expect(on("l40s").engine).toMatchObject({ max_num_seqs: 256, max_num_batched_tokens: 2048 });
    // Without a GPU, vLLM's defaults for one it cannot identify.
    expect(unified("vllm_args: --port 1").engine).toMatchObject({
      max_num_seqs: 256,
      max_num_batched_tokens: 2048,
      block_size: 16,
      gpu_memory_utilization: 0.9,
      enable_prefix_caching: true,
      enable_chunked_prefill: true,
    });
    // Without chunked prefill, a step takes at least max_model_len tokens; throughput mode doubles.
    expect(
      unified("vllm_args: --no-enable-chunked-prefill --max-model-len 4096").engine,
    ).toMatchObject({ max_num_batched_tokens: 4096, max_num_seqs: 256 });
    expect(unified("vllm_args: --performance-mode throughput").engine).toMatchObject({
      max_num_batched_tokens: 4096,
      max_num_seqs: 512,
    });
    // No more sequences than tokens a step, nor more tokens than max_num_seqs × max_model_len.
    expect(unified("vllm_args: --max-num-batched-tokens 128").engine.max_num_seqs).toBe(128);
    expect(unified("vllm_args: --max-num-seqs 2 --max-model-len 512").engine).toMatchObject({
      max_num_batched_tokens: 1024,
    });
  });

  it("keeps pdsim's defaults for an instance without vllm_args", () => {
    const s = scenario(
      "gpu: { preset: h100-sxm }",
      "instances:",
      "  - { name: a, role: unified }",
      "  - { name: b, role: unified, vllm_args: --port 1 }",
    );
    expect(s.instances[0]!.engine.max_num_seqs).toBe(256);
    expect(s.instances[0]!.engine_from).toBeUndefined();
    expect(s.instances[0]!.vllm_args_ignored).toBeUndefined();
    expect(s.instances[1]!.engine.max_num_seqs).toBe(1024);
  });

  it("lets --num-gpu-blocks-override win over the blocks sized from memory, as in vLLM", () => {
    const base = ["model: { preset: qwen3-8b }", "gpu: { preset: h100-sxm }"];
    const sized = unified(...base, "vllm_args: --port 1");
    const overridden = unified(...base, "vllm_args: --num-gpu-blocks-override 4096");
    expect(sized.engine.num_gpu_blocks).toBeGreaterThan(20_000);
    expect(overridden.engine.num_gpu_blocks).toBe(4096);
    expect(overridden.engine_from?.num_gpu_blocks).toBe("vllm_args");
    // vLLM still profiles the memory first, and refuses a model that does not fit.
    expect(overridden.kv_cache_memory?.numGpuBlocks).toBe(sized.kv_cache_memory?.numGpuBlocks);
    const tooBig = onlyIssue(
      lines(
        "model: { preset: llama-3.1-70b }",
        "gpu: { preset: l40s }",
        "vllm_args: --num-gpu-blocks-override 4096",
        "instances:",
        "  - { name: u, role: unified }",
        ...WORKLOAD,
      ),
    );
    expect(tooBig.message).toContain("does not fit");
  });

  it("takes the model's served name, cache dtype and connector from the command lines", () => {
    const s = scenario(
      "model: { preset: qwen3-8b }",
      "vllm_args: vllm serve Qwen/Qwen3-8B --served-model-name chat --kv-cache-dtype fp8_e5m2",
      "instances:",
      `  - { name: p, role: prefill, vllm_args: "${NIXL("kv_producer").replaceAll('"', '\\"')}" }`,
      `  - { name: d, role: decode, vllm_args: "${NIXL("kv_both").replaceAll('"', '\\"')}" }`,
    );
    expect(s.model.name).toBe("chat");
    expect(s.metrics.model_name).toBe("chat");
    expect(s.model.cache_dtype).toBe("fp8");
    // Qwen3-8B: 36 layers × 2 × 8 KV heads × 128, one byte each.
    expect(s.model.kv_bytes_per_token).toBe(73_728);
    expect(s.kv_transfer.connector).toBe("nixl");
  });
});

describe("vllm_args that contradict the scenario", () => {
  // A prefill command line needs a connector; the tests that are not about it get NIXL's.
  const pd = (prefillArgs: string, extra: string[] = []): string =>
    lines(
      ...extra,
      "instances:",
      "  - name: p",
      "    role: prefill",
      `    vllm_args: ${prefillArgs.includes("kv-transfer") ? prefillArgs : `${prefillArgs} ${NIXL("kv_producer")}`}`,
      "  - { name: d, role: decode }",
      ...WORKLOAD,
    );

  it("places an issue at the vllm_args key's line, naming the flag", () => {
    const issue = onlyIssue(pd("--max-num-seqs abc"));
    expect(issue).toMatchObject({ line: 4, path: "instances[0].vllm_args" });
    expect(issue.message).toBe("--max-num-seqs: expected a positive integer, got 'abc'");
    const block = onlyIssue(pd(">-\n      --port 1\n      --max-num-seqs abc"));
    expect(block).toMatchObject({ line: 4, path: "instances[0].vllm_args" });
  });

  it("refuses a flag and an engine key beside it that disagree, and takes them when they agree", () => {
    const issue = onlyIssue(
      lines(
        "engine: { max_num_seqs: 64 }",
        "vllm_args: --max-num-seqs 128",
        "instances:",
        "  - { name: u, role: unified }",
        ...WORKLOAD,
      ),
    );
    expect(issue).toMatchObject({ line: 2, path: "vllm_args" });
    expect(issue.message).toBe(
      "--max-num-seqs 128 contradicts engine.max_num_seqs 64 at the same level; give the setting once",
    );
    expect(
      unified("engine: { max_num_seqs: 64 }", "vllm_args: --max-num-seqs 64").engine.max_num_seqs,
    ).toBe(64);
  });

  it("refuses a kv_role that is not the instance's, and a connector on a unified instance", () => {
    expect(onlyIssue(pd(NIXL("kv_consumer"))).message).toContain(
      "kv_role kv_consumer is a decode instance's",
    );
    const onDecode = issuesOf(
      lines(
        "instances:",
        "  - { name: p, role: prefill }",
        "  - name: d",
        "    role: decode",
        `    vllm_args: ${NIXL("kv_producer")}`,
        ...WORKLOAD,
      ),
    );
    expect(onDecode[0]?.message).toContain("kv_role kv_producer is a prefill instance's");
    expect(
      onlyIssue(
        lines(
          "instances:",
          "  - name: u",
          "    role: unified",
          `    vllm_args: ${NIXL("kv_both")}`,
          ...WORKLOAD,
        ),
      ).message,
    ).toContain("a unified instance moves no KV and has no connector");
  });

  it("refuses a connector other than kv_transfer.connector, and instances that disagree", () => {
    const issue = onlyIssue(pd(NIXL("kv_producer"), ["kv_transfer: { connector: p2p_nccl }"]));
    expect(issue.message).toContain("contradicts kv_transfer.connector p2p_nccl");
    const disagree = issuesOf(
      lines(
        "instances:",
        "  - name: p",
        "    role: prefill",
        `    vllm_args: ${NIXL("kv_producer")}`,
        "  - name: d",
        "    role: decode",
        `    vllm_args: --kv-transfer-config '{"kv_connector":"P2pNcclConnector","kv_role":"kv_consumer"}'`,
        ...WORKLOAD,
      ),
    );
    expect(disagree[0]).toMatchObject({ line: 7, path: "instances[1].vllm_args" });
    expect(disagree[0]?.message).toContain("one way for the whole scenario");
  });

  it("refuses a model, served name or cache dtype that is not the scenario's", () => {
    expect(
      onlyIssue(pd("vllm serve Qwen/Qwen3-32B", ["model: { preset: qwen3-8b }"])).message,
    ).toBe(
      "the command line serves 'Qwen/Qwen3-32B', but model.preset qwen3-8b is Qwen/Qwen3-8B (or its -Instruct or -Base variant, of the same shapes); for another checkpoint give its config.json as model.config",
    );
    expect(onlyIssue(pd("--served-model-name other", ["model: { name: mine }"])).message).toBe(
      "the served model name 'other' contradicts model.name mine; a scenario serves one model",
    );
    expect(onlyIssue(pd("--kv-cache-dtype fp8", ["model: { cache_dtype: auto }"])).message).toBe(
      "--kv-cache-dtype fp8 contradicts model.cache_dtype auto; pdsim sizes one KV cache dtype for the whole scenario",
    );
  });

  it("refuses a load failure policy other than kv_transfer's", () => {
    const args = `'{"kv_connector":"NixlConnector","kv_role":"kv_producer","kv_load_failure_policy":"recompute"}'`;
    expect(onlyIssue(pd(`--kv-transfer-config ${args}`)).message).toContain(
      "give kv_transfer.load_failure_policy: recompute",
    );
  });

  it("points an engine limit broken by a flag at the vllm_args that gave it", () => {
    const issue = onlyIssue(pd("--max-num-seqs 512 --max-num-batched-tokens 256"));
    expect(issue).toMatchObject({ line: 4, path: "instances[0].vllm_args" });
    expect(issue.message).toContain(
      "--max-num-batched-tokens 256 is smaller than --max-num-seqs 512; vLLM refuses to start",
    );
  });

  it("names the flags of an override too small for one request, and says the check is pdsim's", () => {
    const issue = onlyIssue(
      pd("--num-gpu-blocks-override 3 --max-model-len 1500", ["engine: { block_size: 16 }"]),
    );
    expect(issue.path).toBe("instances[0].vllm_args");
    expect(issue.message).toBe(
      "--num-gpu-blocks-override 3 cannot hold one request of --max-model-len 1500: that takes ceil(1500 / 16) = 94 blocks of block_size 16, plus the null block vLLM reserves, so --num-gpu-blocks-override must be at least 95; vLLM does not check an override against max_model_len (may_override_num_blocks replaces the blocks after its own check), but pdsim cannot run a request that does not fit, so it does",
    );
  });
});

describe("an instance's command line runs with what it says, not another instance's", () => {
  const nixl = (role: string): string => NIXL(role).replaceAll('"', '\\"');

  it("reads a command line without --kv-cache-dtype as auto, which must agree", () => {
    const issues = issuesOf(
      lines(
        "instances:",
        "  - { name: a, role: unified, vllm_args: --kv-cache-dtype fp8 }",
        "  - { name: b, role: unified, vllm_args: --port 1 }",
        ...WORKLOAD,
      ),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [
        "instances[1].vllm_args",
        "--kv-cache-dtype auto (vLLM's default: the command line gives none) contradicts --kv-cache-dtype fp8 in instances[0].vllm_args; pdsim sizes one KV cache dtype for the whole scenario",
      ],
    ]);
    // The scenario's vllm_args is part of every instance's command line.
    expect(
      scenario(
        "vllm_args: --kv-cache-dtype fp8",
        "instances:",
        "  - { name: a, role: unified }",
        "  - { name: b, role: unified, vllm_args: --port 1 }",
      ).model.cache_dtype,
    ).toBe("fp8");
  });

  it("refuses a P/D instance whose command line has no connector, unless kv_transfer states one", () => {
    const text = (extra: string[]): string =>
      lines(
        ...extra,
        "instances:",
        `  - { name: p, role: prefill, vllm_args: "${nixl("kv_producer")}" }`,
        "  - { name: d, role: decode, vllm_args: --port 1 }",
        ...WORKLOAD,
      );
    const issue = onlyIssue(text([]));
    expect(issue.path).toBe("instances[1].vllm_args");
    expect(issue.message).toContain(
      "instance 'd' (decode): its command line has no --kv-transfer-config, so vLLM would run it without a KV connector",
    );
    expect(
      parseScenario(text(["kv_transfer: { connector: nixl }"]), "s.yaml").kv_transfer,
    ).toMatchObject({ connector: "nixl" });
  });

  it("refuses a connector dropped by a key given alone, even when kv_transfer states one", () => {
    const issue = onlyIssue(
      lines(
        "kv_transfer: { connector: nixl }",
        "instances:",
        `  - { name: p, role: prefill, vllm_args: "${nixl("kv_producer")} --kv-transfer-config.kv_role kv_producer" }`,
        "  - { name: d, role: decode }",
        ...WORKLOAD,
      ),
    );
    expect(issue.message).toContain(
      "its --kv-transfer-config gives no kv_connector (None, JSON without one, or a --kv-transfer-config.KEY flag",
    );
  });
});

describe("vllm_args checked against the model's config.json", () => {
  it("takes --quantization fp8 for a model whose config says fp8, and refuses it otherwise", () => {
    const deepseek = unified("model: { preset: deepseek-v3 }", "vllm_args: --quantization fp8");
    expect(deepseek.vllm_args_ignored).toEqual(["--quantization"]);
    const issue = onlyIssue(
      lines(
        "model: { preset: qwen3-8b }",
        "instances:",
        "  - { name: u, role: unified, vllm_args: -q fp8 }",
        ...WORKLOAD,
      ),
    );
    expect(issue).toMatchObject({ line: 3, path: "instances[0].vllm_args" });
    expect(issue.message).toBe(
      "--quantization fp8: model.preset qwen3-8b has no quantization_config with quant_method fp8, and pdsim sizes weights in the config's dtype (bfloat16), or in one byte only with such a config.json; give model.config one whose quantization_config says fp8, or leave --quantization out",
    );
  });

  it("reads a bfloat16 cache as auto for a 16-bit model, and refuses it for a float32 one", () => {
    expect(
      scenario(
        "model: { preset: qwen3-8b }",
        "vllm_args: --kv-cache-dtype bfloat16",
        "instances:",
        "  - { name: u, role: unified }",
      ).model,
    ).toMatchObject({ cache_dtype: "auto", kv_bytes_per_token: 147_456 });
    const dir = mkdtempSync(join(tmpdir(), "pdsim-"));
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        hidden_size: 64,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        vocab_size: 1000,
        torch_dtype: "float32",
      }),
    );
    try {
      const issue = onlyIssue(
        lines(
          `model: { config: ${JSON.stringify(config)} }`,
          "vllm_args: --kv-cache-dtype float16",
          "instances:",
          "  - { name: u, role: unified }",
          ...WORKLOAD,
        ),
      );
      expect(issue.path).toBe("vllm_args");
      expect(issue.message).toContain("which for");
      expect(issue.message).toContain("(torch_dtype float32) is not 2 bytes an element");
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("a GPU given by its figures and its name", () => {
  const a100 = "memory_gb: 80, memory_bandwidth_tb_s: 2.039, bf16_tflops: 312";

  it("gives vLLM's A100 batch defaults to a GPU whose name says A100", () => {
    const named = unified(
      `gpu: { name: NVIDIA A100-SXM4-80GB, ${a100} }`,
      "engine: { num_gpu_blocks: 9000 }",
      "vllm_args: --port 1",
    );
    expect(named.gpu?.name).toBe("NVIDIA A100-SXM4-80GB");
    expect(named.engine).toMatchObject({ max_num_seqs: 256, max_num_batched_tokens: 2048 });
    const unnamed = unified(
      `gpu: { ${a100} }`,
      "engine: { num_gpu_blocks: 9000 }",
      "vllm_args: --port 1",
    );
    expect(unnamed.gpu?.name).toBe("custom");
    expect(unnamed.engine).toMatchObject({ max_num_seqs: 1024, max_num_batched_tokens: 8192 });
  });

  it("refuses a name beside a preset, which names its own GPU", () => {
    const issue = onlyIssue(
      lines(
        "gpu: { preset: h100-sxm, name: mine }",
        "instances:",
        "  - { name: u, role: unified }",
        ...WORKLOAD,
      ),
    );
    expect(issue).toMatchObject({ path: "gpu.name" });
    expect(issue.message).toContain("'name' is for a GPU given by its figures");
  });
});

describe("the model a command line serves", () => {
  it("may be the preset's -Instruct or -Base variant, and is then the served model", () => {
    const s = scenario(
      "model: { preset: llama-3.1-8b }",
      "vllm_args: vllm serve meta-llama/Llama-3.1-8B-Instruct",
      "instances:",
      "  - { name: u, role: unified }",
    );
    expect(s.model.name).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(
      unified("model: { preset: qwen3-8b }", "vllm_args: vllm serve Qwen/Qwen3-8B-Base").engine,
    ).toBeDefined();
    const fp8 = onlyIssue(
      lines(
        "model: { preset: qwen3-8b }",
        "vllm_args: vllm serve Qwen/Qwen3-8B-FP8",
        "instances:",
        "  - { name: u, role: unified }",
        ...WORKLOAD,
      ),
    );
    expect(fp8.message).toContain("the command line serves 'Qwen/Qwen3-8B-FP8'");
  });
});
