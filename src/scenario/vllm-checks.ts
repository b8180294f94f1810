// The vllm_args flags checked against the rest of the scenario: an engine key given twice at one
// level with two values, and the model, the KV cache dtype and the KV connector that a command
// line names, which must agree with the scenario's and, where the scenario leaves them out,
// among the instances (pdsim has one model, one cache dtype and one connector a scenario).
import { MODEL_PRESETS } from "../deployment/model-presets.ts";
import type { CacheDtype } from "../deployment/model-config.ts";
import type { EngineOverride } from "./engine-schema.ts";
import { formatPath, type PathSegment, type Problem } from "./paths.ts";
import type { ScenarioFile } from "./schema.ts";
import type { ConnectorName, EngineConfig, InstanceConfig } from "./types.ts";
import { ENGINE_KEY_FLAGS, type KvTransferClaim, type VllmArgs } from "./vllm-args.ts";

/** A value a command line states, and the vllm_args it was stated in. */
interface Stated<T> {
  value: T;
  at: readonly PathSegment[];
  /** vLLM's default for a flag the command line leaves out, rather than a value it gives. */
  leftOut?: boolean;
}

interface InstanceClaims {
  model?: Stated<string>;
  servedName?: Stated<string>;
  /** Set for every instance with vllm_args: vLLM's `auto` when its command line gives none. */
  cacheDtype?: Stated<CacheDtype>;
  /** Set for every instance with vllm_args: null when its command line runs no connector. */
  kvTransfer?: Stated<KvTransferClaim | null>;
}

/**
 * What decides each claim for instance `index`: its own vllm_args, else the scenario's (the two
 * make one command line, the instance's flags after the scenario's). A flag both leave out is
 * vLLM's default, as vLLM would run the instance: the claim is not another instance's.
 */
function claimsOf(file: ScenarioFile, index: number): InstanceClaims {
  const all: [VllmArgs | undefined, PathSegment[]][] = [
    [file.instances[index]!.vllm_args, ["instances", index, "vllm_args"]],
    [file.vllm_args, ["vllm_args"]],
  ];
  const levels = all.filter((l): l is [VllmArgs, PathSegment[]] => l[0] !== undefined);
  if (levels.length === 0) return {};
  const pick = <T>(get: (a: VllmArgs) => T | undefined): Stated<T> | undefined => {
    for (const [args, at] of levels) {
      const value = get(args);
      if (value !== undefined) return { value, at };
    }
    return undefined;
  };
  const leftOut = <T>(value: T): Stated<T> => ({ value, at: levels[0]![1], leftOut: true });
  const model = pick((a) => a.model);
  return {
    ...(model === undefined ? {} : { model }),
    // vLLM serves the model under its own name unless --served-model-name says another.
    ...optional("servedName", pick((a) => a.served_model_name) ?? model),
    cacheDtype: pick((a) => a.cache_dtype) ?? leftOut<CacheDtype>("auto"),
    kvTransfer: pick((a) => a.kv_transfer) ?? leftOut(null),
  };
}

function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

/** What instance `index`'s command line says of its model and role, for pdsim config; once checked. */
export function instanceVllmServe(file: ScenarioFile, index: number): InstanceConfig["vllm_serve"] {
  if (file.instances[index]!.vllm_args === undefined && file.vllm_args === undefined) {
    return undefined;
  }
  const { model, kvTransfer } = claimsOf(file, index);
  const role = kvTransfer?.value?.role;
  return {
    ...(model === undefined ? {} : { model: model.value }),
    ...(role === undefined ? {} : { kv_role: role }),
  };
}

/** What the instances' command lines say of the scenario-wide settings, once checks passed. */
export interface VllmClaims {
  servedName?: string;
  cacheDtype?: CacheDtype;
  connector?: Exclude<ConnectorName, "none">;
}

export function vllmClaims(file: ScenarioFile): VllmClaims {
  const all = file.instances.map((_, i) => claimsOf(file, i));
  const first = <T>(get: (c: InstanceClaims) => Stated<T> | undefined): T | undefined =>
    all.map(get).find((s) => s !== undefined)?.value;
  return {
    ...optional(
      "servedName",
      first((c) => c.servedName),
    ),
    ...optional(
      "cacheDtype",
      first((c) => c.cacheDtype),
    ),
    ...optional("connector", all.map((c) => c.kvTransfer?.value).find((v) => v != null)?.connector),
  };
}

export function checkVllmArgs(file: ScenarioFile): Problem[] {
  const problems = new Map<string, Problem>();
  const add = (path: readonly PathSegment[], message: string): void => {
    problems.set(JSON.stringify([path, message]), { path, message, at: "value" });
  };
  sameLevel(file.engine, file.vllm_args, ["vllm_args"], add);
  file.instances.forEach((instance, i) => {
    sameLevel(instance.engine, instance.vllm_args, ["instances", i, "vllm_args"], add);
  });
  const all = file.instances.map((_, i) => claimsOf(file, i));
  checkModel(file, all, add);
  agree(
    all.map((c) => c.cacheDtype),
    file.model.cache_dtype,
    (s) =>
      s.leftOut === true
        ? `--kv-cache-dtype auto (vLLM's default: the command line gives none)`
        : `--kv-cache-dtype ${s.value}`,
    "model.cache_dtype",
    "pdsim sizes one KV cache dtype for the whole scenario",
    add,
  );
  const kv = file.kv_transfer;
  agree(
    all.map((c) => {
      const claim = c.kvTransfer;
      return claim?.value == null ? undefined : { ...claim, value: claim.value.connector };
    }),
    kv.connector,
    (s) => `--kv-transfer-config's kv_connector (pdsim's ${s.value})`,
    "kv_transfer.connector",
    "pdsim moves KV from prefill to decode instances one way for the whole scenario",
    add,
  );
  all.forEach((claims, i) => checkConnector(file, i, claims.kvTransfer, add));
  return [...problems.values()];
}

/** The connector an instance's command line runs with fits its role and kv_transfer. */
function checkConnector(
  file: ScenarioFile,
  index: number,
  claim: Stated<KvTransferClaim | null> | undefined,
  add: Add,
): void {
  if (claim === undefined) return;
  const { role, name } = file.instances[index]!;
  const kv = file.kv_transfer;
  const value = claim.value;
  if (value === null) {
    if (role === "unified") return;
    // A scenario that states kv_transfer.connector says which connector its P/D instances run,
    // so a command line that leaves the flag out takes it (pdsim config prints it, and says so).
    if (claim.leftOut === true && kv.connector !== undefined) return;
    add(
      claim.at,
      `instance '${name}' (${role}): ${
        claim.leftOut === true
          ? "its command line has no --kv-transfer-config"
          : "its --kv-transfer-config gives no kv_connector (None, JSON without one, or a --kv-transfer-config.KEY flag, which replaces the whole JSON given before it, as vLLM's parser does)"
      }, so vLLM would run it without a KV connector and it could not take part in P/D; give --kv-transfer-config '{"kv_connector":"NixlConnector","kv_role":"${role === "prefill" ? "kv_producer" : "kv_consumer"}"}', or state kv_transfer.connector`,
    );
    return;
  }
  const misfit =
    role === "unified"
      ? "a unified instance moves no KV and has no connector; remove --kv-transfer-config"
      : role === "prefill" && value.role === "kv_consumer"
        ? "kv_role kv_consumer is a decode instance's; a prefill instance produces KV (kv_producer or kv_both)"
        : role === "decode" && value.role === "kv_producer"
          ? "kv_role kv_producer is a prefill instance's; a decode instance consumes KV (kv_consumer or kv_both)"
          : undefined;
  if (misfit !== undefined) add(claim.at, `instance '${name}' (${role}): ${misfit}`);
  const policy = value.load_failure_policy;
  if (policy !== undefined && policy !== kv.load_failure_policy) {
    add(
      claim.at,
      `--kv-transfer-config's kv_load_failure_policy ${policy} contradicts kv_transfer.load_failure_policy ${kv.load_failure_policy} (fail unless given); give kv_transfer.load_failure_policy: ${policy}`,
    );
  }
}

type Add = (path: readonly PathSegment[], message: string) => void;

/** A flag and an `engine:` key beside it that set one thing two ways. */
function sameLevel(
  engine: EngineOverride | undefined,
  args: VllmArgs | undefined,
  at: readonly PathSegment[],
  add: Add,
): void {
  if (engine === undefined || args === undefined) return;
  for (const [key, value] of Object.entries(args.engine) as [keyof EngineConfig, unknown][]) {
    const stated = engine[key];
    if (stated === undefined || stated === value) continue;
    add(
      at,
      `${ENGINE_KEY_FLAGS[key]} ${String(value)} contradicts engine.${key} ${String(stated)} at the same level; give the setting once`,
    );
  }
}

/**
 * Variants published with the same config.json shapes and 16-bit weights as the base model, so
 * the preset sizes them alike. An FP8 or other quantized variant is not one: its weights differ.
 */
const SAME_SHAPES_SUFFIXES = ["", "-instruct", "-base"];

/** The model a command line serves must be the scenario's: the preset's, and by the served name. */
function checkModel(file: ScenarioFile, all: InstanceClaims[], add: Add): void {
  const preset = file.model.preset === undefined ? undefined : MODEL_PRESETS[file.model.preset];
  for (const { model } of all) {
    if (model === undefined || preset === undefined) continue;
    const served = model.value.toLowerCase();
    const base = preset.huggingFace.toLowerCase();
    if (SAME_SHAPES_SUFFIXES.some((suffix) => served === base + suffix)) continue;
    add(
      model.at,
      `the command line serves '${model.value}', but model.preset ${file.model.preset} is ${preset.huggingFace} (or its -Instruct or -Base variant, of the same shapes); for another checkpoint give its config.json as model.config`,
    );
  }
  agree(
    all.map((c) => c.servedName),
    file.model.name,
    (s) => `the served model name '${s.value}'`,
    "model.name",
    "a scenario serves one model",
    add,
  );
}

/**
 * Every stated value agrees with the scenario's key when it gives one, else with the first
 * instance's.
 */
function agree<T>(
  stated: readonly (Stated<T> | undefined)[],
  scenario: T | undefined,
  describe: (stated: Stated<T>) => string,
  key: string,
  why: string,
  add: Add,
): void {
  const reference: Stated<T> | undefined =
    scenario === undefined ? stated.find((s) => s !== undefined) : { value: scenario, at: [] };
  if (reference === undefined) return;
  for (const s of stated) {
    if (s === undefined || s.value === reference.value) continue;
    const other =
      scenario !== undefined
        ? `${key} ${String(scenario)}`
        : `${describe(reference)} in ${formatPath(reference.at)}`;
    add(s.at, `${describe(s)} contradicts ${other}; ${why}`);
  }
}
