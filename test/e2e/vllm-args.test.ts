import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { expectBadInput, pdsim, removeDir, scratchDir, writeScenario } from "./cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

const WORKLOAD = ["workload: { requests: [{ id: a, at_s: 0, prompt_tokens: 5, max_tokens: 1 }] }"];

it("refuses malformed --kv-transfer-config JSON with exit 2, naming the flag and the position, writing nothing", async () => {
  const file = writeScenario(dir, "bad-json.yaml", [
    "instances:",
    "  - name: p",
    "    role: prefill",
    `    vllm_args: --kv-transfer-config '{"kv_connector":"NixlConnector",}'`,
    "  - { name: d, role: decode }",
    ...WORKLOAD,
  ]);
  const out = path.join(dir, "out");
  expectBadInput(
    await pdsim("run", file, "--out", out, "--quiet"),
    `${file}:4:`,
    "instances[0].vllm_args: --kv-transfer-config: malformed JSON at position 32 of its value (offset 54 in vllm_args)",
  );
  expect(fs.existsSync(out)).toBe(false);
});

it("refuses a flag vLLM does not have, with exit 2 and the nearest flag", async () => {
  const file = writeScenario(dir, "unknown-flag.yaml", [
    "vllm_args: vllm serve Qwen/Qwen3-0.6B --max-num-seq 8 --gpu-memory-utilisation 0.8",
    "instances: [{ name: u, role: unified }]",
    ...WORKLOAD,
  ]);
  expectBadInput(
    await pdsim("config", file),
    `${file}:1:`,
    "--gpu-memory-utilisation is not a flag of vllm serve (vLLM 0.19); did you mean '--gpu-memory-utilization'?",
  );
});

it("prints each instance's ignored flags, the source of each engine value and its vllm serve line", async () => {
  const file = writeScenario(dir, "deploy.yaml", [
    "model: { preset: qwen3-8b }",
    "gpu: { preset: h100-sxm }",
    "vllm_args: >-",
    "  vllm serve Qwen/Qwen3-8B --port 8000 --host 0.0.0.0 \\",
    "  --max-num-seqs 128 --kv-cache-dtype fp8",
    "instances:",
    "  - { name: u, role: unified, engine: { max_model_len: 16384 } }",
    ...WORKLOAD,
  ]);
  const json = await pdsim("config", file, "--json");
  expect(json.status).toBe(0);
  const [u] = JSON.parse(json.stdout);
  expect(u.vllm_args_ignored).toEqual(["--port", "--host"]);
  expect(u.engine).toMatchObject({
    max_num_seqs: { value: 128, from: "given (vllm_args)" },
    max_model_len: { value: 16384, from: "given (engine)" },
    max_num_batched_tokens: { value: 8192, from: "vLLM default" },
    num_gpu_blocks: { from: "derived" },
    log_stats_interval_s: { value: 10, from: "default" },
  });
  expect(u.cache_dtype).toBe("fp8");
  expect(u.vllm_serve).toBe(
    "vllm serve Qwen/Qwen3-8B --block-size 16 --max-model-len 16384 --max-num-batched-tokens 8192 --max-num-seqs 128 --enable-prefix-caching --enable-chunked-prefill --long-prefill-token-threshold 0 --gpu-memory-utilization 0.9 --tensor-parallel-size 1 --kv-cache-dtype fp8",
  );
  const text = await pdsim("config", file);
  expect(text.stdout).toContain("  ignored vLLM flags  --port, --host\n");
  expect(text.stdout).toContain("    max_num_seqs                       128  given (vllm_args)\n");
  expect(text.stdout).toContain("  vllm serve          Qwen/Qwen3-8B --block-size 16 ");
});
