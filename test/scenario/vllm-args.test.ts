import { describe, expect, it } from "vitest";
import { shellWords } from "../../src/scenario/shell-words.ts";
import { readVllmArgs, type VllmArgs } from "../../src/scenario/vllm-args.ts";

function args(text: string): VllmArgs {
  const read = readVllmArgs(text);
  if (!read.ok) throw new Error(`expected '${text}' to read, got ${read.messages.join("; ")}`);
  return read.args;
}

function problems(text: string): string[] {
  const read = readVllmArgs(text);
  if (read.ok) throw new Error(`expected '${text}' to be refused`);
  return read.messages;
}

const NIXL_BOTH = `'{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`;

describe("the shell words of vllm_args", () => {
  it("keeps single- and double-quoted words whole, JSON included", () => {
    expect(shellWords(`--kv-transfer-config ${NIXL_BOTH} --served-model-name "my model"`)).toEqual({
      ok: true,
      words: [
        "--kv-transfer-config",
        '{"kv_connector":"NixlConnector","kv_role":"kv_both"}',
        "--served-model-name",
        "my model",
      ],
    });
  });

  it("joins lines ended by a backslash, and a folded block's backslash before a space", () => {
    const literal = "--block-size 16 \\\n  --max-num-seqs 8";
    const folded = "--block-size 16 \\ --max-num-seqs 8";
    const expected = { ok: true, words: ["--block-size", "16", "--max-num-seqs", "8"] };
    expect(shellWords(literal)).toEqual(expected);
    expect(shellWords(folded)).toEqual(expected);
  });

  it.each([
    ["--port 8000 | tee log", "'|' is a shell operator"],
    ["--port 8000 && echo done", "'&&' is a shell operator"],
    ["--port 8000 > log", "'>' is a shell operator"],
    ["--port 8000; echo", "';' is a shell operator"],
    ["--port $(cat port)", "command substitution"],
    ["--port `cat port`", "command substitution"],
    ["--port $PORT", "$PORT: pdsim does not expand environment variables"],
    ['--served-model-name "${NAME}"', "$NAME: pdsim does not expand environment variables"],
    ["--download-dir *.bin", "glob pattern"],
    ["--port 8000 # the port", "'#' comment"],
    ["--served-model-name 'open", "a quote is left open"],
    ['--served-model-name "open', "a quote is left open"],
  ])("refuses what only a shell could read: %s", (text, message) => {
    const read = shellWords(text);
    expect(read.ok).toBe(false);
    expect(read.ok ? "" : read.message).toContain(message);
  });
});

describe("vllm_args read as vLLM reads its argv", () => {
  it("takes an optional leading 'vllm serve' and the model as the first word", () => {
    expect(args("vllm serve Qwen/Qwen3-8B --block-size 32")).toMatchObject({
      model: "Qwen/Qwen3-8B",
      engine: { block_size: 32 },
    });
    expect(args("Qwen/Qwen3-8B -tp 2").model).toBe("Qwen/Qwen3-8B");
    expect(args("--model Qwen/Qwen3-8B").model).toBe("Qwen/Qwen3-8B");
    expect(args("--block-size 32").model).toBeUndefined();
  });

  it("takes --flag=value, underscores for dashes, unique prefixes and short aliases", () => {
    expect(args("--max_num_seqs=12 --max-num-batched=4096 -tp=2 --block_size 8").engine).toEqual({
      max_num_seqs: 12,
      max_num_batched_tokens: 4096,
      tensor_parallel_size: 2,
      block_size: 8,
    });
  });

  it("reads a boolean flag alone as true and its --no- form as false", () => {
    expect(args("--enable-prefix-caching --no-enable-chunked-prefill").engine).toEqual({
      enable_prefix_caching: true,
      enable_chunked_prefill: false,
    });
    expect(args("--no-enable-prefix-caching --enable-chunked-prefill").engine).toEqual({
      enable_prefix_caching: false,
      enable_chunked_prefill: true,
    });
    expect(problems("--enable-prefix-caching=true")).toEqual([
      "--enable-prefix-caching takes no value, got 'true'",
    ]);
  });

  it("lands every mapped flag in its engine key", () => {
    const text = [
      "--block-size 32",
      "--num-gpu-blocks-override 5000",
      "--max-model-len 16384",
      "--max-num-batched-tokens 4096",
      "--max-num-seqs 64",
      "--no-enable-prefix-caching",
      "--no-enable-chunked-prefill",
      "--long-prefill-token-threshold 512",
      "--gpu-memory-utilization 0.85",
      "--tensor-parallel-size 4",
    ].join(" ");
    expect(args(text).engine).toEqual({
      block_size: 32,
      num_gpu_blocks: 5000,
      max_model_len: 16384,
      max_num_batched_tokens: 4096,
      max_num_seqs: 64,
      enable_prefix_caching: false,
      enable_chunked_prefill: false,
      long_prefill_token_threshold: 512,
      gpu_memory_utilization: 0.85,
      tensor_parallel_size: 4,
    });
  });

  it("reads human-readable lengths as vLLM 0.19 does: k decimal, K binary", () => {
    expect(args("--max-model-len 32k --max-num-batched-tokens 8K").engine).toEqual({
      max_model_len: 32_000,
      max_num_batched_tokens: 8192,
    });
    expect(args("--max-model-len 1.5k").engine.max_model_len).toBe(1500);
    expect(args("--max-model-len 1M").engine.max_model_len).toBe(1_048_576);
    expect(problems("--max-model-len 1.5K")[0]).toContain("did you mean 1.5k?");
    expect(problems("--max-model-len auto")[0]).toContain(
      "pdsim does not fit max_model_len to the GPU's memory",
    );
  });

  it("lets a later flag win over an earlier one, and reads 'None' as not given", () => {
    expect(args("--max-num-seqs 8 --max-num-seqs 16").engine).toEqual({ max_num_seqs: 16 });
    expect(args("--max-num-seqs 8 --max-num-seqs None").engine).toEqual({});
  });

  it("names the flag and what it expected for a bad value", () => {
    expect(problems("--max-num-seqs abc")).toEqual([
      "--max-num-seqs: expected a positive integer, got 'abc'",
    ]);
    expect(problems("--gpu-memory-utilization lots")).toEqual([
      "--gpu-memory-utilization: expected a number, got 'lots'",
    ]);
    expect(problems("--block-size 3")).toEqual([
      "--block-size: invalid choice: 3 (choose from 1, 8, 16, 32, 64, 128, 256)",
    ]);
    expect(problems("--max-num-seqs 0")[0]).toMatch(/^--max-num-seqs: expected/);
    expect(problems("--max-num-seqs")).toEqual(["--max-num-seqs: expected a value"]);
  });

  it("refuses a flag vLLM does not have, with the nearest one", () => {
    expect(problems("--max-num-seqz 8")).toEqual([
      "--max-num-seqz is not a flag of vllm serve (vLLM 0.19); did you mean '--max-num-seqs'?",
    ]);
    expect(problems("--max-num 8")[0]).toMatch(/^ambiguous option --max-num: it could be/);
    expect(problems("--swap-space 4")[0]).toContain("--swap-space is not a flag of vllm serve");
  });

  it("lists the flags that change nothing pdsim models, each once, by its long name", () => {
    const read = args(
      "--port 8000 --host 0.0.0.0 --trust-remote-code --enable-log-requests --enforce-eager --dtype auto --seed 1 -pp 1 --port 8001",
    );
    expect(read.ignored).toEqual([
      "--port",
      "--host",
      "--trust-remote-code",
      "--enable-log-requests",
      "--enforce-eager",
      "--dtype",
      "--seed",
      "--pipeline-parallel-size",
    ]);
    expect(read.engine).toEqual({});
  });

  it.each([
    ["-pp 2", "-pp: pdsim does not model pipeline parallelism"],
    ["--data-parallel-size 2", "data parallelism"],
    ["--quantization awq", "it sizes weights in the model config's dtype, or in one byte"],
    [`--speculative-config '{"method":"ngram"}'`, "speculative decoding"],
    ["--max-num-partial-prefills 2", "concurrent partial prefills"],
    ["--kv-offloading-size 8", "give the scenario a kv_cache_tiers entry"],
    ["--cpu-offload-gb 4", "offloading weights"],
    ["--kv-cache-memory-bytes 8G", "give --num-gpu-blocks-override instead"],
    ["--enable-lora", "LoRA adapters"],
    ["--scheduling-policy priority", "priority scheduling"],
    ["--config serve.yaml", "--config YAML file"],
  ])("refuses a flag whose effect pdsim does not model: %s", (text, message) => {
    expect(problems(text)[0]).toContain(message);
  });

  it("reads the KV cache dtype, fp8's variants as one byte", () => {
    expect(args("--kv-cache-dtype auto").cache_dtype).toBe("auto");
    for (const dtype of ["fp8", "fp8_e4m3", "fp8_e5m2"]) {
      expect(args(`--kv-cache-dtype ${dtype}`).cache_dtype).toBe("fp8");
    }
    expect(problems("--kv-cache-dtype int8_per_token_head")[0]).toContain("pdsim models auto");
    expect(problems("--kv-cache-dtype fp4")[0]).toContain("expected one of auto, fp8, fp8_e4m3");
  });

  it("reads the served name (the first of several) and the KV connector", () => {
    const read = args(`M --served-model-name a b --kv-transfer-config ${NIXL_BOTH}`);
    expect(read.served_model_name).toBe("a");
    expect(read.kv_transfer).toEqual({ connector: "nixl", role: "kv_both" });
    expect(
      args(`--kv-transfer-config '{"kv_connector":"P2pNcclConnector","kv_role":"kv_producer"}'`)
        .kv_transfer,
    ).toEqual({ connector: "p2p_nccl", role: "kv_producer" });
  });

  it("reads a JSON flag given key by key, as vLLM's parser merges it", () => {
    const read = args(
      "--kv-transfer-config.kv_connector NixlConnector --kv-transfer-config.kv_role=kv_consumer",
    );
    expect(read.kv_transfer).toEqual({ connector: "nixl", role: "kv_consumer" });
  });

  it("refuses a connector pdsim does not model, and one vLLM does not have", () => {
    expect(
      problems(`--kv-transfer-config '{"kv_connector":"LMCacheConnectorV1","kv_role":"kv_both"}'`),
    ).toEqual([
      "--kv-transfer-config: the flag does not set up the LMCacheConnectorV1 yet; state it in the scenario: kv_transfer.connector: lmcache with a kv_cache_tiers entry",
    ]);
    expect(
      problems(`--kv-transfer-config '{"kv_connector":"MooncakeConnector","kv_role":"kv_both"}'`),
    ).toEqual([
      "--kv-transfer-config: pdsim does not model the MooncakeConnector yet; it models NixlConnector (nixl) and P2pNcclConnector (p2p_nccl)",
    ]);
    expect(
      problems(`--kv-transfer-config '{"kv_connector":"NixConnector","kv_role":"kv_both"}'`)[0],
    ).toContain("did you mean 'NixlConnector'?");
    expect(problems(`--kv-transfer-config '{"kv_connector":"NixlConnector"}'`)[0]).toContain(
      "needs a kv_role",
    );
    expect(problems(`--kv-transfer-config '{"kv_rol":"kv_both"}'`)[0]).toContain(
      "did you mean 'kv_role'?",
    );
  });

  it("names the flag and the position of malformed --kv-transfer-config JSON", () => {
    const text = `--port 1 --kv-transfer-config '{"kv_connector":"NixlConnector",}'`;
    const [message] = problems(text);
    // The JSON starts after the quote at offset 31; its parser stops at the '}' at 32 within it.
    expect(message).toMatch(
      /^--kv-transfer-config: malformed JSON at position 32 of its value \(offset 63 in vllm_args\)/,
    );
    expect(text[63]).toBe("}");
    const [bare] = problems(`--kv-transfer-config '{"kv_connector":}'`);
    expect(bare).toMatch(/at position 16 of its value \(offset 38 in vllm_args\)/);
  });
});

describe("vllm_args judged as vLLM's parser leaves them", () => {
  it.each([
    ["--enable-lora --no-enable-lora", "--enable-lora"],
    ["-q fp8 -q None", "--quantization"],
    ["--max-num-partial-prefills 2 --max-num-partial-prefills 1", "--max-num-partial-prefills"],
    ["-pp 2 -pp 1", "--pipeline-parallel-size"],
  ])("judges a refused flag given twice on its last value: %s", (text, flag) => {
    expect(args(text).ignored).toEqual([flag]);
  });

  it("still refuses a refused flag whose last value is the refused one", () => {
    expect(problems("--no-enable-lora --enable-lora")).toEqual([
      "--enable-lora: pdsim does not model LoRA adapters",
    ]);
  });

  it("takes --quantization fp8 for a check against the model, and refuses another method", () => {
    expect(args("--quantization fp8")).toMatchObject({
      quantization: "fp8",
      ignored: ["--quantization"],
    });
    expect(problems("-q awq")).toEqual([
      "-q: pdsim does not model --quantization awq: it sizes weights in the model config's dtype, or in one byte with a config.json whose quantization_config.quant_method is fp8 (then --quantization fp8 is accepted)",
    ]);
  });

  it("refuses --block-size 2 and 4, which vLLM's parser does not offer", () => {
    for (const size of [2, 4]) {
      expect(problems(`--block-size ${size}`)[0]).toContain(`invalid choice: ${size}`);
    }
  });

  it("refuses a value vLLM's parser refuses: --performance-mode's choices, a float", () => {
    expect(problems("--performance-mode fast")).toEqual([
      "--performance-mode: expected one of balanced, interactivity, throughput, got 'fast'",
    ]);
    expect(args("--performance-mode interactivity").performance_mode).toBe("interactivity");
    expect(problems("--cpu-offload-gb abc")).toEqual([
      "--cpu-offload-gb: expected a number, got 'abc'",
    ]);
    expect(args("--cpu-offload-gb 0.0").ignored).toEqual(["--cpu-offload-gb"]);
    expect(problems("-pp two")).toEqual(["-pp: expected an integer, got 'two'"]);
  });

  it("reads --kv-cache-dtype float16 and bfloat16 as a 2-byte cache", () => {
    expect(args("--kv-cache-dtype bfloat16")).toMatchObject({
      cache_dtype: "auto",
      cache_dtype_16bit: "bfloat16",
    });
    expect(args("--kv-cache-dtype float16 --kv-cache-dtype fp8").cache_dtype_16bit).toBeUndefined();
  });

  it("reads -O as --optimization-level only before a level from 0 to 3", () => {
    expect(args("-O 3 --port 1").ignored).toEqual(["--optimization-level", "--port"]);
    expect(args("-O3").ignored).toEqual(["--optimization-level"]);
    expect(problems("-O --port 1")).toEqual([
      "-O is not a flag of vllm serve by itself: give a level, as -O3, -O 3 or --optimization-level 3",
    ]);
  });

  it("joins backslash line ends only outside quotes", () => {
    expect(args("--served-model-name 'a \\ b' \\\n --port 1")).toMatchObject({
      served_model_name: "a \\ b",
      ignored: ["--port"],
    });
    expect(shellWords(`--served-model-name "a \\ b"`)).toEqual({
      ok: true,
      words: ["--served-model-name", "a \\ b"],
    });
  });

  it("resolves an abbreviated JSON flag given key by key", () => {
    expect(
      args("--kv-transfer.kv_connector NixlConnector --kv-transfer.kv_role kv_both").kv_transfer,
    ).toEqual({ connector: "nixl", role: "kv_both" });
    expect(problems("--kv.kv_role kv_both")[0]).toMatch(/^ambiguous option --kv/);
    expect(problems("--block.x 1")[0]).toContain("only a JSON flag");
  });

  it("lets a key given alone replace the whole JSON given before it, as vLLM does", () => {
    const read = args(`--kv-transfer-config ${NIXL_BOTH} --kv-transfer-config.kv_role kv_producer`);
    expect(read.kv_transfer).toBeNull();
  });

  it("points a malformed JSON's offset into the occurrence that has it", () => {
    const good = `'{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`;
    const text = `--kv-transfer-config '{"kv_connector":}' --kv-transfer-config ${good}`;
    const [message] = problems(text);
    expect(message).toMatch(/at position 16 of its value \(offset 38 in vllm_args\)/);
    expect(text[38]).toBe("}");
  });
});
