// What an instance's `vllm_args` (a `vllm serve` command line) means to pdsim: the flags that set
// one of its engine keys, the ones that name the model, its KV cache dtype or its KV connector
// (checked against the rest of the scenario by checks.ts), the ones pdsim refuses because they
// would change its numbers in ways it does not model, and the rest, ignored and listed.
import type { CacheDtype } from "../deployment/model-config.ts";
import { describeIssue } from "./messages.ts";
import { engineSchema, VLLM_BLOCK_SIZES, type EngineOverride } from "./engine-schema.ts";
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
  /**
   * `--kv-cache-dtype float16` or `bfloat16`: a 2-byte cache, which is `auto` for a 16-bit model
   * (checked against the model's dtype once it is known).
   */
  cache_dtype_16bit?: "float16" | "bfloat16";
  /** The connector; null when the flag is given without one (`None`, or JSON with no kv_connector). */
  kv_transfer?: KvTransferClaim | null;
  /** `--quantization fp8`: checked against the model's config.json, which must say fp8 too. */
  quantization?: "fp8";
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

interface NotModelled {
  /** How vLLM parses the value, so that a malformed one is refused as argparse refuses it. */
  kind?: "int" | "float";
  /** A reason to refuse the value given, or undefined at a value that changes nothing. */
  refuse(value: FlagOccurrence["value"]): string | undefined;
}

/** Flags whose effect pdsim does not model, and the values at which they have none. */
const NOT_MODELLED: Readonly<Record<string, NotModelled>> = {
  "--pipeline-parallel-size": above1("pipeline parallelism"),
  "--data-parallel-size": above1(
    "data parallelism (give each data-parallel rank an instance of its own)",
  ),
  "--data-parallel-size-local": above1("data parallelism"),
  "--decode-context-parallel-size": above1("decode context parallelism"),
  "--prefill-context-parallel-size": above1("prefill context parallelism"),
  "--max-num-partial-prefills": above1("concurrent partial prefills"),
  "--cpu-offload-gb": {
    kind: "float",
    refuse: (v) => (Number(v) > 0 ? "offloading weights to CPU memory" : undefined),
  },
  "--quantization": {
    refuse: (v) =>
      isUnset(v) || v === "fp8"
        ? undefined
        : `--quantization ${String(v)}: it sizes weights in the model config's dtype, or in one byte with a config.json whose quantization_config.quant_method is fp8 (then --quantization fp8 is accepted)`,
  },
  "--speculative-config": given("speculative decoding"),
  "--kv-offloading-size": given(
    "KV cache offloading set up by this flag yet; give the scenario a kv_cache_tiers entry and kv_transfer.connector: offloading (or lmcache) instead",
  ),
  "--kv-cache-memory-bytes": given(
    "a KV cache sized in bytes (give --num-gpu-blocks-override instead)",
  ),
  "--hf-overrides": given("overrides of the model's config (give the config.json as model.config)"),
  "--config": { refuse: () => "vLLM's --config YAML file (write its flags into vllm_args)" },
  "--enable-lora": { refuse: (v) => (v === true ? "LoRA adapters" : undefined) },
  "--scheduling-policy": { refuse: (v) => (v === "fcfs" ? undefined : "priority scheduling") },
  "--dtype": {
    refuse: (v) =>
      v === "float32" || v === "float" ? "float32 weights (it sizes 16-bit weights)" : undefined,
  },
};

function above1(what: string): NotModelled {
  return { kind: "int", refuse: (v) => (isUnset(v) || Number(v) <= 1 ? undefined : what) };
}

/** vLLM reads '' and 'None' as "not set" for its optional flags. */
function given(what: string): NotModelled {
  return { refuse: (v) => (isUnset(v) ? undefined : what) };
}

function isUnset(value: FlagOccurrence["value"]): boolean {
  return value === "" || value === "None";
}

/** vLLM 0.19's --performance-mode choices (PerformanceMode in vllm/config/vllm.py). */
const PERFORMANCE_MODES = ["balanced", "interactivity", "throughput"];

/** vLLM 0.19's --kv-cache-dtype choices (CacheDType in vllm/config/cache.py) and pdsim's reading. */
const CACHE_DTYPES: Readonly<Record<string, CacheDtype | undefined>> = {
  auto: "auto",
  fp8: "fp8",
  fp8_e4m3: "fp8",
  fp8_e5m2: "fp8",
  float16: "auto",
  bfloat16: "auto",
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
  // argparse keeps a repeated flag's last value: that one alone says what vLLM runs with.
  const last = new Map(argv.argv.flags.map((o, i) => [o.flag.name, i]));
  argv.argv.flags.forEach((occurrence, i) => {
    const name = occurrence.flag.name;
    const mapped = ENGINE_FLAGS[name];
    if (mapped !== undefined) {
      const read = engineValue(occurrence, mapped.key, mapped.kind);
      if ("message" in read) messages.push(read.message);
      else if (read.value === undefined) delete engine[mapped.key];
      else engine[mapped.key] = read.value;
      return;
    }
    const problem = valueProblem(occurrence);
    if (problem !== undefined) {
      messages.push(problem);
      return;
    }
    const refusal = last.get(name) === i ? NOT_MODELLED[name]?.refuse(occurrence.value) : undefined;
    if (refusal !== undefined) {
      messages.push(`${occurrence.typed}: pdsim does not model ${refusal}`);
      return;
    }
    if (CHECKED.has(name)) {
      const problem = readChecked(occurrence, args, text);
      if (problem !== undefined) messages.push(problem);
      return;
    }
    if (name === "--performance-mode") args.performance_mode = String(occurrence.value);
    if (name === "--quantization") {
      if (occurrence.value === "fp8") args.quantization = "fp8";
      else delete args.quantization;
    }
    if (!args.ignored.includes(name)) args.ignored.push(name);
  });
  return messages.length > 0 ? { ok: false, messages } : { ok: true, args };
}

/** A value vLLM's parser itself would refuse: not a number, or not one of its choices. */
function valueProblem({ flag, typed, value }: FlagOccurrence): string | undefined {
  const kind = NOT_MODELLED[flag.name]?.kind;
  if (kind !== undefined && !isUnset(value)) {
    const parsed =
      kind === "float"
        ? parseFloatArg(String(value))
        : parseIntArg(String(value), "an integer", false);
    if (typeof parsed === "string") return `${typed}: ${parsed}`;
  }
  if (flag.name === "--performance-mode" && !PERFORMANCE_MODES.includes(String(value))) {
    return `${typed}: expected one of ${PERFORMANCE_MODES.join(", ")}, got '${String(value)}'`;
  }
  return undefined;
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
      return `${typed} ${dtype}: pdsim models auto (the model's dtype), float16 and bfloat16 (two bytes an element, auto for a 16-bit model) and fp8 (fp8, fp8_e4m3, fp8_e5m2: one byte an element)`;
    }
    args.cache_dtype = mapped;
    if (dtype === "float16" || dtype === "bfloat16") args.cache_dtype_16bit = dtype;
    else delete args.cache_dtype_16bit;
    return undefined;
  }
  // Given without a connector (None, or JSON without kv_connector): vLLM runs with none.
  if (isUnset(value)) {
    args.kv_transfer = null;
    return undefined;
  }
  const claim = readKvTransferConfig(String(value), typed, valueOffset(text, occurrence));
  if ("message" in claim) return claim.message;
  args.kv_transfer = claim.claim ?? null;
  return undefined;
}

/**
 * Where the occurrence's value starts in the text as written, past `=` or spaces and an opening
 * quote: a JSON parser's position within the value, added to it, points into vllm_args. The
 * occurrence is found by its ordinal among the words that begin with what was typed.
 */
function valueOffset(text: string, { typed, ordinal }: FlagOccurrence): number {
  const starts = [...text.matchAll(/(?<=^|\s)\S/g)].map((m) => m.index);
  const at0 = starts.filter((i) => text.startsWith(typed, i))[ordinal];
  if (at0 === undefined) return 0;
  let at = at0 + typed.length;
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
  // argparse offers vLLM's block sizes as choices; 2 and 4 are pdsim's, for engine: alone.
  if (key === "block_size" && !VLLM_BLOCK_SIZES.includes(parsed)) {
    return {
      message: `${o.typed}: invalid choice: ${parsed} (choose from ${VLLM_BLOCK_SIZES.join(", ")})`,
    };
  }
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
