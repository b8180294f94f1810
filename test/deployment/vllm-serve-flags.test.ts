import { describe, expect, it } from "vitest";
import { VLLM_SERVE_FLAGS } from "../../src/deployment/vllm-serve-flags.ts";

describe("vLLM 0.19's vllm serve flag table", () => {
  it("names each flag and short form once", () => {
    const names = VLLM_SERVE_FLAGS.flatMap((f) => [f.name, ...f.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const f of VLLM_SERVE_FLAGS) expect(f.name).toMatch(/^--[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("holds the flags pdsim maps, with their forms, short forms and vLLM's defaults", () => {
    const flag = (name: string): unknown => VLLM_SERVE_FLAGS.find((f) => f.name === name);
    expect(flag("--tensor-parallel-size")).toEqual({
      name: "--tensor-parallel-size",
      aliases: ["-tp"],
      takes: "value",
      default: 1,
    });
    expect(flag("--enable-prefix-caching")).toMatchObject({ takes: "bool", default: true });
    expect(flag("--enable-chunked-prefill")).toMatchObject({ takes: "bool", default: true });
    expect(flag("--gpu-memory-utilization")).toMatchObject({ takes: "value", default: 0.9 });
    expect(flag("--block-size")).toMatchObject({ takes: "value", default: 16 });
    expect(flag("--kv-transfer-config")).toMatchObject({ takes: "json" });
    expect(flag("--served-model-name")).toMatchObject({ takes: "values" });
    expect(flag("--disable-log-stats")).toMatchObject({ takes: "switch" });
    for (const name of [
      "--max-num-seqs",
      "--max-num-batched-tokens",
      "--max-model-len",
      "--num-gpu-blocks-override",
      "--long-prefill-token-threshold",
      "--kv-cache-dtype",
      "--host",
      "--port",
    ]) {
      expect(flag(name), name).toBeDefined();
    }
  });
});
