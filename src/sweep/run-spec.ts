// The runs of a sweep: each variant of the base scenario with each seed, validated before any
// run starts, and each keyed by a digest of what decides its outcome, so that a rerun skips the
// runs already done.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolveScenarioData, ScenarioError } from "../scenario/index.ts";
import type { Scenario } from "../scenario/types.ts";
import type { SweepFile } from "./sweep-schema.ts";
import { applyVariant, type Variant } from "./variants.ts";

export interface RunSpec {
  /** Variant-major, seed-minor, from 0. */
  index: number;
  /** A digest of the scenario's data, the files it reads, the seed and pdsim's version. */
  key: string;
  variant: Variant;
  seed: number;
  /** The base scenario's data with the variant set and its `expect` list removed. */
  scenario: Record<string, unknown>;
  /** The base scenario's file: the variant's relative paths are resolved from it. */
  scenarioFile: string;
}

/** A variant the scenario format refuses: which one, and the scenario's own issues. */
export class VariantError extends Error {
  constructor(
    readonly variant: Variant,
    readonly error: ScenarioError,
  ) {
    super(error.message);
  }
}

export function seedsOf(sweep: SweepFile, scenarioSeed: number): number[] {
  if (sweep.seeds === undefined) return [scenarioSeed];
  if (Array.isArray(sweep.seeds)) return sweep.seeds;
  return Array.from({ length: sweep.seeds.count }, (_, i) => i);
}

/**
 * Every run, after resolving each variant once as `pdsim run` would (a variant's bad value is
 * a VariantError before anything runs).
 */
export function runSpecs(
  baseData: unknown,
  scenarioFile: string,
  variants: readonly Variant[],
  seeds: readonly number[],
  version: string,
): RunSpec[] {
  const digests = new FileDigests();
  const specs: RunSpec[] = [];
  for (const variant of variants) {
    const scenario = applyVariant(baseData, variant);
    // Expectations pin one scenario's numbers; a variant's differ by design.
    delete scenario.expect;
    let resolved: Scenario;
    try {
      resolved = resolveScenarioData(scenario, scenarioFile);
    } catch (error) {
      if (error instanceof ScenarioError) throw new VariantError(variant, error);
      throw error;
    }
    // A config.json's shapes are in the resolved model; a trace is digested, not read whole.
    const inputs = [
      ...inputFiles(resolved).map((file) => digests.of(file)),
      resolved.model.source?.config ?? null,
    ];
    for (const seed of seeds) {
      specs.push({
        index: specs.length,
        key: runKey({ scenario, inputs, seed, version }),
        variant,
        seed,
        scenario,
        scenarioFile,
      });
    }
  }
  return specs;
}

/** The files a run reads as it goes: a trace and its tokenizer. */
function inputFiles(scenario: Scenario): string[] {
  const files: string[] = [];
  const w = scenario.workload;
  if (w.kind === "trace") {
    files.push(w.file);
    if (w.tokenizer_file !== undefined) files.push(w.tokenizer_file);
  }
  return files;
}

export function runKey(parts: unknown): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex").slice(0, 24);
}

/** JSON with every object's keys sorted, so that equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Each file's content digest, read once however many variants name it. */
class FileDigests {
  private readonly digests = new Map<string, string>();

  of(file: string): string {
    let digest = this.digests.get(file);
    if (digest === undefined) {
      digest = createHash("sha256").update(readFileSync(file)).digest("hex");
      this.digests.set(file, digest);
    }
    return digest;
  }
}
