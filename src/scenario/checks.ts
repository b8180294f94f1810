// Checks that span sections of a validated scenario file: engine limits of each resolved
// instance (vLLM refuses to start with these), roles against the connector, and
// expectations against the instances they name.
import type { PathSegment, Problem } from "./paths.ts";
import { instanceEngine, type InstanceEngine } from "./instance-engine.ts";
import type { ScenarioFile } from "./schema.ts";
import { checkVllmArgs } from "./vllm-checks.ts";
import { suggestOrList } from "./suggest.ts";
import { checkConnectors } from "./kv-tier-checks.ts";
import { isPdConnector } from "./names.ts";
import { generatedArrivalSpan } from "./workload-schema.ts";
import type { EngineConfig } from "./types.ts";
import { ENGINE_KEY_FLAGS } from "./vllm-args.ts";

/** How a message names a setting: by its flag when a command line gave it, else by its key. */
type Namer = (key: keyof EngineConfig) => string;

interface EngineRule {
  /** The keys the rule reads, most likely culprit first: the problem is reported at one. */
  keys: readonly (keyof EngineConfig)[];
  violation(engine: EngineConfig, name: Namer): string | undefined;
}

const ENGINE_RULES: readonly EngineRule[] = [
  {
    keys: ["num_gpu_blocks", "max_model_len", "block_size"],
    violation: (e, name) => {
      const needed = Math.ceil(e.max_model_len / e.block_size);
      if (needed <= e.num_gpu_blocks - 1) return undefined;
      const blocks = name("num_gpu_blocks");
      // vLLM checks the blocks it sized from memory against max_model_len, but
      // may_override_num_blocks puts the override in their place without a second look.
      const own = blocks.startsWith("--")
        ? `; vLLM does not check an override against max_model_len (may_override_num_blocks replaces the blocks after its own check), but pdsim cannot run a request that does not fit, so it does`
        : "";
      return (
        `${blocks} ${e.num_gpu_blocks} cannot hold one request of ${name("max_model_len")} ` +
        `${e.max_model_len}: that takes ceil(${e.max_model_len} / ${e.block_size}) = ${needed} ` +
        `blocks of ${name("block_size")} ${e.block_size}, plus the null block vLLM reserves, so ` +
        `${blocks} must be at least ${needed + 1}${own}`
      );
    },
  },
  {
    keys: ["max_num_batched_tokens", "max_num_seqs"],
    violation: (e, name) =>
      e.max_num_batched_tokens >= e.max_num_seqs
        ? undefined
        : `${name("max_num_batched_tokens")} ${e.max_num_batched_tokens} is smaller than ${name("max_num_seqs")} ` +
          `${e.max_num_seqs}; vLLM refuses to start unless max_num_batched_tokens >= max_num_seqs`,
  },
  {
    keys: ["max_num_batched_tokens", "enable_chunked_prefill", "max_model_len"],
    violation: (e, name) =>
      e.enable_chunked_prefill || e.max_num_batched_tokens >= e.max_model_len
        ? undefined
        : `with ${name("enable_chunked_prefill") === "enable_chunked_prefill" ? "enable_chunked_prefill false" : "--no-enable-chunked-prefill"}, ${name("max_num_batched_tokens")} ${e.max_num_batched_tokens} ` +
          `is smaller than ${name("max_model_len")} ${e.max_model_len}, so a long prompt could never be ` +
          `scheduled; vLLM refuses to start unless chunked prefill is on or ` +
          `max_num_batched_tokens >= max_model_len`,
  },
];

/**
 * Where to point for a rule broken by one instance: the instance's own setting of a key the rule
 * reads (most likely culprit first), else the scenario's, else the instance itself.
 */
function culprit(
  keys: EngineRule["keys"],
  index: number,
  at: InstanceEngine["givenAt"],
): PathSegment[] {
  const own = keys.map((k) => at[k]).find((path) => path?.[0] === "instances");
  const any = own ?? keys.map((k) => at[k]).find((path) => path !== undefined);
  return any === undefined ? ["instances", index] : [...any];
}

/**
 * Whether the instance's num_gpu_blocks will be sized from its GPU's memory (resolve.ts), which
 * then checks the blocks against max_model_len itself: the default 8,192 is not what it runs with.
 */
function blocksFromMemory(
  file: ScenarioFile,
  instance: ScenarioFile["instances"][number],
  givenAt: InstanceEngine["givenAt"],
): boolean {
  const hasShapes = file.model.preset !== undefined || file.model.config !== undefined;
  const hasGpu = (instance.gpu ?? file.gpu) !== undefined;
  return hasShapes && hasGpu && givenAt.num_gpu_blocks === undefined;
}

export function checkEngineLimits(file: ScenarioFile): Problem[] {
  const problems = new Map<string, Problem>();
  file.instances.forEach((instance, i) => {
    const { engine, givenAt, from } = instanceEngine(file, i);
    const sized = blocksFromMemory(file, instance, givenAt);
    const name: Namer = (key) => (from[key] === "vllm_args" ? (ENGINE_KEY_FLAGS[key] ?? key) : key);
    for (const rule of ENGINE_RULES) {
      if (sized && rule.keys.includes("num_gpu_blocks")) continue;
      const message = rule.violation(engine, name);
      if (message === undefined) continue;
      const path = culprit(rule.keys, i, givenAt);
      // Instances that inherit one bad top-level setting share a single report.
      problems.set(JSON.stringify([path, message]), { path, message, at: "value" });
    }
  });
  return [...problems.values()];
}

export function checkRoles(file: ScenarioFile): Problem[] {
  const problems: Problem[] = [];
  const roles = file.instances.map((instance) => instance.role);
  const firstPrefill = roles.indexOf("prefill");
  const firstDecode = roles.indexOf("decode");
  if (firstPrefill !== -1 && firstDecode === -1) {
    problems.push({
      path: ["instances", firstPrefill, "role"],
      at: "value",
      message:
        "a prefill instance needs a decode instance to hand its requests to; add one, or make it unified",
    });
  }
  if (firstDecode !== -1 && firstPrefill === -1) {
    problems.push({
      path: ["instances", firstDecode, "role"],
      at: "value",
      message:
        "a decode instance needs a prefill instance to receive KV from; add one, or make it unified",
    });
  }
  if (file.kv_transfer.connector === "none" && (firstPrefill !== -1 || firstDecode !== -1)) {
    problems.push({
      path: ["kv_transfer", "connector"],
      at: "value",
      message:
        "connector none cannot move KV from prefill to decode instances; use nixl or p2p_nccl, or make every instance unified",
    });
    return problems;
  }
  // A connector stated at either level must move KV on every prefill and decode instance, and
  // all of them must move it the same way (one fabric).
  const kinds = new Set<string>();
  let reportedScenarioLevel = false;
  file.instances.forEach((instance, i) => {
    if (instance.role === "unified") return;
    const own = instance.kv_transfer;
    const spec = own ?? file.kv_transfer;
    if (spec.connector === undefined) {
      kinds.add("nixl");
      return;
    }
    const entries = spec.connector === "multi" ? (spec.connectors ?? []) : [spec];
    // An empty list is checkConnectors' to report; a connector shared by several instances is
    // reported once, at the first of them.
    if (entries.length === 0) return;
    const pd = entries.find((e) => isPdConnector(e.connector));
    const path =
      own === undefined
        ? ["kv_transfer", "connector"]
        : ["instances", i, "kv_transfer", "connector"];
    if (pd === undefined) {
      if (own === undefined && reportedScenarioLevel) return;
      if (own === undefined) reportedScenarioLevel = true;
      problems.push({
        path,
        at: "value",
        message: `${instance.role} instance '${instance.name}' runs ${spec.connector}, which cannot move KV from prefill to decode instances; use nixl or p2p_nccl, alone or in a multi connector's list`,
      });
      return;
    }
    kinds.add(pd.connector as string);
    if (kinds.size > 1) {
      problems.push({
        path,
        at: "value",
        message: `prefill and decode instances must share one P/D connector; '${instance.name}' runs ${pd.connector}, another runs ${[...kinds].find((k) => k !== pd.connector)}`,
      });
    }
  });
  return problems;
}

export function checkExpectedInstances(file: ScenarioFile): Problem[] {
  const names = file.instances.map((instance) => instance.name);
  const problems: Problem[] = [];
  file.expect.forEach((expectation, i) => {
    if (names.includes(expectation.instance)) return;
    problems.push({
      path: ["expect", i, "instance"],
      at: "value",
      message: `no instance named '${expectation.instance}'${suggestOrList(expectation.instance, names, "instances are")}`,
    });
  });
  return problems;
}

/**
 * Log lines and scrapes tick for the whole run, busy or idle: a workload spread over a long stretch
 * of simulated time with a short period would be billions of ticks that change nothing.
 */
export const MAX_PERIODIC_TICKS = 1_000_000;

/** When the last request arrives, at the latest (the generator's mean span for a generated one). */
function arrivalSpan(file: ScenarioFile): number {
  const w = file.workload;
  if (w.kind === "explicit") return w.requests.reduce((last, r) => Math.max(last, r.at_s), 0);
  // A trace's span is known once its file is read: the replay checks it then (trace-source.ts).
  if (w.kind === "trace") return 0;
  // Sessions' later turns wait for responses and think times; their starts bound it from below.
  if (w.kind === "sessions") return generatedArrivalSpan(w.start_s, w.num_sessions, w.arrival);
  return generatedArrivalSpan(w.start_s, w.num_requests, w.arrival);
}

export function checkPeriodicTicks(file: ScenarioFile): Problem[] {
  const span = arrivalSpan(file);
  const problems = new Map<string, Problem>();
  const check = (path: PathSegment[], key: string, period: number): void => {
    const ticks = span / period;
    if (ticks <= MAX_PERIODIC_TICKS) return;
    const message =
      `the requests arrive over ${Math.round(span)} s of simulated time, which at a ${key} of ` +
      `${period} s is ${Math.round(ticks)} intervals; expected at most ${MAX_PERIODIC_TICKS}: ` +
      `raise ${key} or bring the arrivals closer together`;
    problems.set(JSON.stringify(path), { path, message, at: "value" });
  };
  file.instances.forEach((_, i) => {
    const { engine, givenAt } = instanceEngine(file, i);
    check(
      [...(givenAt.log_stats_interval_s ?? ["workload"])],
      "log_stats_interval_s",
      engine.log_stats_interval_s,
    );
  });
  check(["metrics", "scrape_interval_s"], "scrape_interval_s", file.metrics.scrape_interval_s);
  return [...problems.values()];
}

export function checkScenarioFile(file: ScenarioFile): Problem[] {
  return [
    ...checkEngineLimits(file),
    ...checkRoles(file),
    ...checkConnectors(file),
    ...checkExpectedInstances(file),
    ...checkVllmArgs(file),
    ...checkPeriodicTicks(file),
  ];
}
