// Helpers for the in-process cluster tests: build a scenario from a plain object (YAML is a
// superset of JSON, so it goes through the real loader), run it, and check that it drained.
import { expect } from "vitest";
import { Cluster, type ClusterRunResult } from "../../src/cluster/cluster.ts";
import type { InstanceLeg, RequestRecord } from "../../src/cluster/request-record.ts";
import type { ProfileName } from "../../src/accounting/profiles.ts";
import { parseScenario, type Scenario } from "../../src/scenario/index.ts";
import { lostOrDuplicated, workloadIds } from "../../src/check/invariants/cluster-level.ts";
import { undrained } from "../../src/check/invariants/instance-level.ts";

/** Parses `file` (a scenario as a plain object) through the scenario loader. */
export function scenarioFrom(file: Record<string, unknown>, name = "generated.yaml"): Scenario {
  return parseScenario(JSON.stringify(file), name);
}

export interface Run {
  cluster: Cluster;
  result: ClusterRunResult;
  /** In finish order. */
  records: RequestRecord[];
}

export function runCluster(scenario: Scenario, seed = scenario.seed): Run {
  const records: RequestRecord[] = [];
  const cluster = new Cluster(scenario, seed, {
    onRequestFinished: (record) => records.push(record),
  });
  const result = cluster.run();
  return { cluster, result, records };
}

export { workloadIds };

/** Request id → the instance its (single, unified) leg ran on, in arrival order. */
export function routeOf(run: Run): Map<string, string> {
  const byArrival = [...run.records].sort((a, b) => a.arrival_s - b.arrival_s);
  return new Map(byArrival.map((r) => [r.id, r.legs[0]!.instance]));
}

/**
 * Every request the workload sends finished exactly once with one finish reason, and every
 * instance is back to an empty engine with all its blocks free.
 */
/** The catalogue's `one-finish-per-request`, on a run made by these helpers. */
export function expectEveryRequestFinishedOnce(run: Run, scenario: Scenario, seed: number): void {
  expect(lostOrDuplicated(workloadIds(scenario, seed), run.result, run.records)).toEqual([]);
}

/** The catalogue's `blocks-released-at-drain`, on a run made by these helpers. */
export function expectDrained(run: Pick<Run, "cluster">): void {
  expect(undrained(run.cluster)).toEqual([]);
}

/** A Prometheus sample of one instance, summed over every series with these labels. */
export function sampleOf(
  run: Run,
  instance: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = run.cluster.instances.find((i) => i.name === instance);
  if (found === undefined) throw new Error(`no instance ${instance}`);
  return found.statLoggers.prometheus.sampleValue(name, labels);
}

/** The source split `profile` reported for a leg; throws for a refused leg or a version without one. */
export function reportedBy(leg: InstanceLeg, profile: ProfileName) {
  const reported = leg.reported?.[profile];
  if (reported === undefined || !("local_compute" in reported)) {
    throw new Error(`${leg.instance}: ${profile} reported no source split`);
  }
  return reported;
}
