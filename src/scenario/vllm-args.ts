// What an instance's `vllm_args` (a `vllm serve` command line) means to pdsim: the flags that set
// one of its engine keys, the ones that name the model, its KV cache dtype or its KV connector
// (checked against the rest of the scenario by checks.ts), the ones pdsim refuses because they
// would change its numbers in ways it does not model, and the rest, ignored and listed.
import type { CacheDtype } from "../deployment/model-config.ts";
import { describeIssue } from "./messages.ts";
import { engineSchema, type EngineOverride } from "./engine-schema.ts";
import { shellWords } from "./shell-words.ts";
import { readVllmArgv, type FlagOccurrence } from "./vllm-argv.ts";
import { readKvTransferConfig, type KvTransferClaim } from "./vllm-kv-transfer.ts";
import type { EngineConfig } from "./types.ts";

export type { KvTransferClaim };

export interface VllmArgs {
  /** The engine keys the flags set. */
  engine: EngineOverride;
  /** The positional model (or `--model`): a Hugging Face name or a path. */
  model?: string;
  /** `--served-model-name`'s first name, the one vLLM's metrics carry. */
  served_model_name?: string;
  cache_dtype?: CacheDtype;
  kv_transfer?: KvTransferClaim;
  /** `--performance-mode`: `throughput` doubles vLLM's default batch limits. */
  performance_mode?: string;
  /** Flags given that change nothing pdsim models, by their long names, in the order given. */
  ignored: string[];
}

export type VllmArgsRead = { ok: true; args: VllmArgs } | { ok: false; messages: string[] };

type Kind = "int" | "human-int" | "float" | "bool";

/** vLLM's flags for pdsim's engine keys, with the type vLLM parses each with. */
const ENGINE_FLAGS: Readonly<Record<string, { key: keyof EngineConfig; kind: Kind }>> = {
  "--block-size": { key: "block_size", kind: "int" },
  "--num-gpu-blocks-override": { key: "num_gpu_blocks", kind: "int" },
  "--max-model-len": { key: "max_model_len", kind: "human-int" },
  "--max-num-batched-tokens": { key: "max_num_batched_tokens", kind: "human-int" },
  "--max-num-seqs": { key: "max_num_seqs", kind: "int" },
  "--enable-prefix-caching": { key: "enable_prefix_caching", kind: "bool" },
  "--enable-chunked-prefill": { key: "enable_chunked_prefill", kind: "bool" },
  "--long-prefill-token-threshold": { key: "long_prefill_token_threshold", kind: "int" },
  "--gpu-memory-utilization": { key: "gpu_memory_utilization", kind: "float" },
  "--tensor-parallel-size": { key: "tensor_parallel_size", kind: "int" },
};

/** The engine key each mapped flag sets: for messages and for rendering an engine as flags. */
export const ENGINE_KEY_FLAGS: Readonly<Partial<Record<keyof EngineConfig, string>>> =
  Object.fromEntries(Object.entries(ENGINE_FLAGS).map(([flag, { key }]) => [key, flag]));

/**
 * Flags whose effect pdsim does not model, and the values at which they have none (those are
 * ignored): a reason to refuse the value given, or undefined.
 */
const NOT_MODELLED: Readonly<
  Record<string, (value: FlagOccurrence["value"]) => string | undefined>
> = {
  "--pipeline-parallel-size": above1("pipeline parallelism"),
  "--data-parallel-size": above1(
    "data parallelism (give each data-parallel rank an instance of its own)",
  ),
  "--data-parallel-size-local": above1("data parallelism"),
  "--decode-context-parallel-size": above1("decode context parallelism"),
  "--prefill-context-parallel-size": above1("prefill context parallelism"),
  "--max-num-partial-prefills": above1("concurrent partial prefills"),
  "--cpu-offload-gb": (v) => (Number(v) > 0 ? "offloading weights to CPU memory" : undefined),
  "--quantization": given("quantized weights (it sizes 16-bit weights)"),
  "--speculative-config": given("speculative decoding"),
  "--kv-offloading-size": given("KV cache offloading to CPU memory"),
  "--kv-cache-memory-bytes": given(
    "a KV cache sized in bytes (give --num-gpu-blocks-override instead)",
  ),
  "--hf-overrides": given("overrides of the model's config (give the config.json as model.config)"),
  "--config": () => "vLLM's --config YAML file (write its flags into vllm_args)",
  "--enable-lora": (v) => (v === true ? "LoRA adapters" : undefined),
  "--scheduling-policy": (v) => (v === "fcfs" ? undefined : "priority scheduling"),
  "--dtype": (v) =>
    v === "float32" || v === "float" ? "float32 weights (it sizes 16-bit weights)" : undefined,
};

function above1(what: string): (value: FlagOccurrence["value"]) => string | undefined {
  return (v) =>
    typeof v === "string" && /^\s*\d+\s*$/.test(v) && Number(v) <= 1 ? undefined : what;
}

/** vLLM reads '' and 'None' as "not set" for its optional flags. */
function given(what: string): (value: FlagOccurrence["value"]) => string | undefined {
  return (v) => (isUnset(v) ? undefined : what);
}

function isUnset(value: FlagOccurrence["value"]): boolean {
  return value === "" || value === "None";
}

/** vLLM 0.19's --kv-cache-dtype choices (CacheDType in vllm/config/cache.py) and pdsim's reading. */
const CACHE_DTYPES: Readonly<Record<string, CacheDtype | undefined>> = {
  auto: "auto",
  fp8: "fp8",
  fp8_e4m3: "fp8",
  fp8_e5m2: "fp8",
  float16: undefined,
  bfloat16: undefined,
  fp8_inc: undefined,
  fp8_ds_mla: undefined,
  int8_per_token_head: undefined,
  fp8_per_token_head: undefined,
};

/** Flags that are read for a check against the scenario, so neither mapped nor ignored. */
const CHECKED = new Set(["--served-model-name", "--kv-cache-dtype", "--kv-transfer-config"]);

export function readVllmArgs(text: string): VllmArgsRead {
  const words = shellWords(text);
  if (!words.ok) return { ok: false, messages: [words.message] };
  const argv = readVllmArgv(words.words);
  if (!argv.ok) return argv;
  const messages: string[] = [];
  const engine: Record<string, unknown> = {};
  const args: VllmArgs = { engine, ignored: [] };
  if (argv.argv.model !== undefined) args.model = argv.argv.model;
  for (const occurrence of argv.argv.flags) {
    const name = occurrence.flag.name;
    const mapped = ENGINE_FLAGS[name];
    if (mapped !== undefined) {
      const read = engineValue(occurrence, mapped.key, mapped.kind);
      if ("message" in read) messages.push(read.message);
      else if (read.value === undefined) delete engine[mapped.key];
      else engine[mapped.key] = read.value;
      continue;
    }
    const refusal = NOT_MODELLED[name]?.(occurrence.value);
    if (refusal !== undefined) {
      messages.push(`${occurrence.typed}: pdsim does not model ${refusal}`);
      continue;
    }
    if (CHECKED.has(name)) {
      const problem = readChecked(occurrence, args, text);
      if (problem !== undefined) messages.push(problem);
      continue;
    }
    if (name === "--performance-mode") args.performance_mode = String(occurrence.value);
    if (!args.ignored.includes(name)) args.ignored.push(name);
  }
  return messages.length > 0 ? { ok: false, messages } : { ok: true, args };
}

function readChecked(occurrence: FlagOccurrence, args: VllmArgs, text: string): string | undefined {
  const { flag, typed, value } = occurrence;
  if (flag.name === "--served-model-name") {
    const names = value as readonly string[];
    args.served_model_name = names[0]!;
    return undefined;
  }
  if (flag.name === "--kv-cache-dtype") {
    const dtype = String(value);
    if (!(dtype in CACHE_DTYPES)) {
      return `${typed}: expected one of ${Object.keys(CACHE_DTYPES).join(", ")}, got '${dtype}'`;
    }
    const mapped = CACHE_DTYPES[dtype];
    if (mapped === undefined) {
      return `${typed} ${dtype}: pdsim models auto (the model's dtype) and fp8 (fp8, fp8_e4m3, fp8_e5m2: one byte an element)`;
    }
    args.cache_dtype = mapped;
    return undefined;
  }
  if (isUnset(value)) {
    delete args.kv_transfer;
    return undefined;
  }
  const claim = readKvTransferConfig(String(value), typed, valueOffset(text, typed));
  if ("message" in claim) return claim.message;
  if (claim.claim === undefined) delete args.kv_transfer;
  else args.kv_transfer = claim.claim;
  return undefined;
}

/**
 * Where the last `typed` flag's value starts in the text as written, past `=` or spaces and an
 * opening quote: a JSON parser's position within the value, added to it, points into vllm_args.
 */
function valueOffset(text: string, typed: string): number {
  let at = text.lastIndexOf(typed) + typed.length;
  while (at < text.length && /[=\s\\]/.test(text[at]!)) at++;
  if (text[at] === "'" || text[at] === '"') at++;
  return at;
}

type EngineValue = { value: number | boolean | undefined } | { message: string };

function engineValue(o: FlagOccurrence, key: keyof EngineConfig, kind: Kind): EngineValue {
  if (kind === "bool") return { value: o.value as boolean };
  const raw = String(o.value);
  if (isUnset(o.value)) return { value: undefined };
  if (key === "max_model_len" && (raw.trim() === "-1" || raw.trim().toLowerCase() === "auto")) {
    return {
      message: `${o.typed} ${raw}: pdsim does not fit max_model_len to the GPU's memory; give the length`,
    };
  }
  const what =
    key === "long_prefill_token_threshold" ? "a non-negative integer" : "a positive integer";
  const parsed =
    kind === "float" ? parseFloatArg(raw) : parseIntArg(raw, what, kind === "human-int");
  if (typeof parsed === "string") return { message: `${o.typed}: ${parsed}` };
  const checked = engineSchema.shape[key].safeParse(parsed, { error: describeIssue });
  if (!checked.success) {
    return { message: `${o.typed}: ${checked.error.issues[0]?.message ?? "invalid value"}` };
  }
  return { value: parsed };
}

/** As Python's int() reads it, and vLLM's human_readable_int ('8k', '1.5m', '32K'). */
function parseIntArg(raw: string, what: string, humanReadable: boolean): number | string {
  const text = raw.trim();
  const suffixed = /^(\d+(?:\.\d+)?)([kKmMgGtT])$/.exec(text);
  if (humanReadable && suffixed !== null) {
    const [, number, suffix] = suffixed as unknown as [string, string, string];
    const power = "kmgt".indexOf(suffix.toLowerCase()) + 1;
    if (suffix === suffix.toLowerCase()) return Math.trunc(Number(number) * 1000 ** power);
    if (number.includes(".")) {
      return `decimals are not allowed with a binary suffix such as ${suffix}, got '${raw}'; did you mean ${number}${suffix.toLowerCase()}?`;
    }
    return Number(number) * 1024 ** power;
  }
  if (/^[+-]?\d+(_\d+)*$/.test(text)) return Number(text.replaceAll("_", ""));
  const example = humanReadable ? " (such as 8192, 8k or 32K)" : "";
  return `expected ${what}${example}, got '${raw}'`;
}

function parseFloatArg(raw: string): number | string {
  const text = raw.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  return `expected a number, got '${raw}'`;
}
