// The vllm_args claims that only the model's config.json can settle, checked once resolve.ts has
// read it: `--quantization fp8` needs FP8 weights in the config (vLLM would otherwise quantize
// 16-bit weights on load, which pdsim does not model), and a `float16` or `bfloat16` KV cache is
// pdsim's `auto` only for a 16-bit model.
import { cacheElementBytes, type ModelConfig } from "../deployment/model-config.ts";
import type { PathSegment, Problem } from "./paths.ts";
import type { ScenarioFile } from "./schema.ts";
import type { VllmArgs } from "./vllm-args.ts";

/** Each vllm_args in the scenario with its path: the scenario's, then each instance's. */
function allArgs(file: ScenarioFile): [VllmArgs, PathSegment[]][] {
  const levels: [VllmArgs | undefined, PathSegment[]][] = [
    [file.vllm_args, ["vllm_args"]],
    ...file.instances.map((instance, i): [VllmArgs | undefined, PathSegment[]] => [
      instance.vllm_args,
      ["instances", i, "vllm_args"],
    ]),
  ];
  return levels.filter((l): l is [VllmArgs, PathSegment[]] => l[0] !== undefined);
}

export function checkVllmArgsAgainstConfig(
  file: ScenarioFile,
  config: ModelConfig,
  source: string,
): Problem[] {
  const problems: Problem[] = [];
  const dtype = config.torch_dtype ?? "bfloat16";
  for (const [args, path] of allArgs(file)) {
    if (args.quantization === "fp8" && config.quantization !== "fp8") {
      problems.push({
        path,
        at: "value",
        message: `--quantization fp8: ${source} has no quantization_config with quant_method fp8, and pdsim sizes weights in the config's dtype (${dtype}), or in one byte only with such a config.json; give model.config one whose quantization_config says fp8, or leave --quantization out`,
      });
    }
    const sixteen = args.cache_dtype_16bit;
    if (
      sixteen !== undefined &&
      args.cache_dtype === "auto" &&
      cacheElementBytes(config, "auto") !== 2
    ) {
      problems.push({
        path,
        at: "value",
        message: `--kv-cache-dtype ${sixteen}: pdsim reads a 16-bit cache as auto, which for ${source} (torch_dtype ${dtype}) is not 2 bytes an element; give --kv-cache-dtype auto or fp8`,
      });
    }
  }
  return problems;
}
