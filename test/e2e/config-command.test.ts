import { afterAll, expect, it } from "vitest";
import { pdsim, removeDir, scratchDir, writeScenario } from "./cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

const scenario = writeScenario(dir, "deploy.yaml", [
  "model: { preset: qwen3-8b, cache_dtype: fp8 }",
  "gpu: { preset: h100-sxm }",
  "engine: { block_size: 16, num_gpu_blocks: 20000, max_model_len: 32000 }",
  "instances:",
  "  - { name: p, role: prefill }",
  "  - { name: d, role: decode, gpu: { preset: h200 } }",
  "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
]);

it("prints each instance's engine, and whether the scenario gave each value", async () => {
  const result = await pdsim("config", scenario, "--json");
  expect(result.status).toBe(0);
  const [p, d] = JSON.parse(result.stdout);
  expect(p).toMatchObject({
    name: "p",
    model: { name: "Qwen/Qwen3-8B", source: "preset qwen3-8b" },
    // 36 layers × 2 × 8 KV heads × 128, one byte each in fp8.
    kv_bytes_per_token: { value: 73_728, from: "derived" },
    gpu: { name: "h100-sxm", memory_gb: 80 },
    num_gpu_blocks: { value: 20_000, from: "given" },
    // vLLM's "GPU KV cache size": 20,000 blocks of 16 tokens; 320,000 / 32,000 = 10x.
    kv_cache_tokens: 320_000,
    max_concurrency: 10,
  });
  expect(p.model.parameters.total / 1e9).toBeCloseTo(8.19, 2);
  expect(d.gpu.name).toBe("h200");
  // The default linear model: 4 ms + 25 µs × 1,024 prefill tokens.
  expect(p.step_times_ms["prefill 1k tokens"]).toBe(29.6);

  const text = await pdsim("config", scenario);
  expect(text.stdout).toContain("  GPU KV cache size   320,000 tokens\n");
  expect(text.stdout).toContain("  max concurrency     10.00x for 32,000 tokens per request\n");
});

it("refuses a scenario it cannot load, with exit 2", async () => {
  const result = await pdsim("config", "no-such.yaml");
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(/^pdsim: cannot read scenario 'no-such\.yaml'/);
});

it("samples the roofline's step times on each instance's own GPU", async () => {
  const roofline = writeScenario(dir, "roofline.yaml", [
    "model: { preset: llama-3.1-8b, step_time: { model: roofline } }",
    "gpu: { preset: h100-sxm }",
    "instances:",
    "  - { name: h100, role: unified }",
    "  - { name: h200, role: unified, gpu: { preset: h200 } }",
    "  - { name: tp2, role: unified, engine: { tensor_parallel_size: 2 } }",
    "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
  ]);
  const result = await pdsim("config", roofline, "--json");
  expect(result.status).toBe(0);
  const [h100, h200, tp2] = JSON.parse(result.stdout);
  expect(h100.step_time_model).toBe(
    "roofline on h100-sxm × 1: 0.5 of 989.5 BF16 TFLOP/s, 0.9 of 3.35 TB/s, + 1.45 ms a step",
  );
  const ms = (r: { step_times_ms: Record<string, number> }, k: string) => r.step_times_ms[k]!;
  // A decode batch of one reads the weights: H200's 4.8 TB/s against H100's 3.35.
  const overhead = 1.45;
  expect(ms(h100, "decode 1 seq") - overhead).toBeCloseTo(
    (ms(h200, "decode 1 seq") - overhead) * (4.8 / 3.35),
    2,
  );
  // A long prefill is arithmetic, the same on both (989.5 TFLOP/s), halved by two GPUs.
  expect(ms(h100, "prefill 8k tokens")).toBe(ms(h200, "prefill 8k tokens"));
  expect(ms(tp2, "prefill 8k tokens") - overhead).toBeCloseTo(
    (ms(h100, "prefill 8k tokens") - overhead) / 2,
    2,
  );
  for (const r of [h100, h200, tp2]) {
    const times = Object.values(r.step_times_ms) as number[];
    expect(times.slice(2)).toEqual([...times.slice(2)].sort((a, b) => a - b)); // 1, 64, 256 seqs
  }
});

it("prints a vllm serve line that says what each instance's command line gave, and notes what the scenario gave", async () => {
  const file = writeScenario(dir, "pd-lines.yaml", [
    "model: { preset: llama-3.1-8b }",
    "gpu: { name: NVIDIA A100-SXM4-80GB, memory_gb: 80, memory_bandwidth_tb_s: 2.039, bf16_tflops: 312 }",
    "kv_transfer: { connector: nixl }",
    "instances:",
    "  - name: p",
    "    role: prefill",
    `    vllm_args: vllm serve meta-llama/Llama-3.1-8B-Instruct --kv-transfer-config '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`,
    "  - { name: d, role: decode, vllm_args: vllm serve meta-llama/Llama-3.1-8B-Instruct }",
    "  - { name: e, role: decode }",
    "workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }",
  ]);
  const result = await pdsim("config", file, "--json");
  expect(result.status).toBe(0);
  const [p, d, e] = JSON.parse(result.stdout);
  expect(p.gpu.name).toBe("NVIDIA A100-SXM4-80GB");
  expect(p.model.name).toBe("meta-llama/Llama-3.1-8B-Instruct");
  expect(p.vllm_serve).toMatch(/^vllm serve meta-llama\/Llama-3\.1-8B-Instruct /);
  // The operator's kv_both stays kv_both: pdsim does not rewrite it to kv_producer.
  expect(p.vllm_serve).toContain(`"kv_role":"kv_both"`);
  expect(p.vllm_serve_note).toBeNull();
  expect(d.vllm_serve).toContain(`"kv_role":"kv_consumer"`);
  expect(d.vllm_serve_note).toBe(
    "--kv-transfer-config is kv_transfer.connector nixl, with the kv_role a decode instance needs: its command line gives none",
  );
  expect(e.vllm_serve_note).toContain("the instance has no vllm_args");
  const text = await pdsim("config", file);
  expect(text.stdout).toContain(
    "                      (--kv-transfer-config is kv_transfer.connector nixl, with the kv_role a decode instance needs: its command line gives none)\n",
  );
});

it("writes a tier as its connector's own settings in the vllm serve line", async () => {
  const offload = await pdsim("config", "scenarios/cpu-offload.yaml");
  expect(offload.status).toBe(0);
  // 131,072 tokens of Qwen3-0.6B's 114,688 bytes a token, in offloaded blocks of 256 tokens.
  const config = {
    kv_connector: "OffloadingConnector",
    kv_role: "kv_both",
    kv_connector_extra_config: { block_size: 256, cpu_bytes_to_use: 131072 * 114688 },
  };
  expect(offload.stdout).toContain(`--kv-transfer-config '${JSON.stringify(config)}'`);
  const shared = await pdsim("config", "scenarios/shared-cache-cold-warm.yaml");
  expect(shared.stdout).toContain('"kv_connector":"LMCacheConnectorV1"');
  expect(shared.stdout).toContain("tier lmcache is shared: LMCache needs a remote backend");
});
