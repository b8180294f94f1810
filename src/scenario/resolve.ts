// Turns a validated scenario file into the resolved Scenario: fills the defaults that depend
// on other keys, merges each instance's engine settings and records source lines.
import { basename, dirname, extname, resolve } from "node:path";
import type { PathSegment } from "./paths.ts";
import { DEFAULT_ENGINE, type EngineOverride, type ScenarioFile } from "./schema.ts";
import type {
  ConnectorName,
  EngineConfig,
  ExplicitRequestConfig,
  InstanceConfig,
  Scenario,
  WorkloadConfig,
} from "./types.ts";
import type { WorkloadSpec } from "./workload-schema.ts";

/** Later levels win; an absent key falls through to the level above. */
export function mergeEngine(...levels: (EngineOverride | undefined)[]): EngineConfig {
  const engine: EngineConfig = { ...DEFAULT_ENGINE };
  for (const level of levels) {
    if (level === undefined) continue;
    for (const [key, value] of Object.entries(level)) {
      if (value !== undefined) Object.assign(engine, { [key]: value });
    }
  }
  return engine;
}

/** Disaggregation needs a connector; a cluster of unified instances moves no KV. */
export function defaultConnector(roles: readonly InstanceConfig["role"][]): ConnectorName {
  return roles.every((role) => role === "unified") ? "none" : "nixl";
}

export interface ResolveContext {
  file: string;
  lineOf(path: readonly PathSegment[]): number;
}

export function resolveScenario(parsed: ScenarioFile, context: ResolveContext): Scenario {
  const { file, lineOf } = context;
  const instances: InstanceConfig[] = parsed.instances.map((instance, i) => ({
    name: instance.name,
    role: instance.role,
    engine: mergeEngine(parsed.engine, instance.engine),
    line: lineOf(["instances", i]),
  }));
  return {
    file,
    name: parsed.name ?? basename(file, extname(file)),
    description: parsed.description,
    lesson: parsed.lesson,
    seed: parsed.seed,
    model: parsed.model,
    instances,
    kv_transfer: {
      ...parsed.kv_transfer,
      connector: parsed.kv_transfer.connector ?? defaultConnector(instances.map((i) => i.role)),
    },
    proxy: parsed.proxy,
    workload: resolveWorkload(parsed.workload, lineOf, context.file),
    metrics: {
      profile: parsed.metrics.profile,
      model_name: parsed.metrics.model_name ?? parsed.model.name,
      scrape_interval_s: parsed.metrics.scrape_interval_s,
      start_time: parsed.metrics.start_time,
      job: parsed.metrics.job,
    },
    expect: parsed.expect.map((e, i) => ({
      instance: e.instance,
      metric: e.metric.metric,
      selector: e.metric.selector,
      ...(e.equals === undefined ? {} : { equals: e.equals }),
      ...(e.min === undefined ? {} : { min: e.min }),
      ...(e.max === undefined ? {} : { max: e.max }),
      tolerance: e.tolerance ?? 0,
      line: lineOf(["expect", i]),
    })),
  };
}

function resolveWorkload(
  workload: WorkloadSpec,
  lineOf: ResolveContext["lineOf"],
  scenarioFile: string,
): WorkloadConfig {
  switch (workload.kind) {
    case "sessions":
      return workload;
    case "trace":
      return {
        ...workload,
        file: resolve(dirname(scenarioFile), workload.path),
        ...(workload.tokenizer === undefined
          ? {}
          : { tokenizer_file: resolve(dirname(scenarioFile), workload.tokenizer) }),
      };
    case "generated":
      return workload;
    case "explicit":
      return {
        kind: "explicit",
        concurrency: workload.concurrency,
        requests: workload.requests.map((r, i): ExplicitRequestConfig => ({
          id: r.id,
          at_s: r.at_s,
          ...(r.prompt_tokens === undefined ? {} : { prompt_tokens: r.prompt_tokens }),
          ...(r.prompt_from === undefined ? {} : { prompt_from: r.prompt_from }),
          ...(r.prefix === undefined ? {} : { prefix: r.prefix }),
          max_tokens: r.max_tokens,
          ...(r.output_tokens === undefined ? {} : { output_tokens: r.output_tokens }),
          line: lineOf(["workload", "requests", i]),
        })),
      };
  }
}
