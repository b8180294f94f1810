// Helpers for the in-process cluster tests: build a scenario from a plain object (YAML is a
// superset of JSON, so it goes through the real loader), run it, and check that it drained.
import { expect } from "vitest";
import { RngStreams } from "../../sim/index.ts";
import { Cluster, type ClusterRunResult } from "../../src/cluster/cluster.ts";
import type { InstanceLeg, RequestRecord } from "../../src/cluster/request-record.ts";
import type { ProfileName } from "../../src/metrics/profiles.ts";
import { parseScenario, type Scenario } from "../../src/scenario/index.ts";
import { workloadSource } from "../../src/workload/workload.ts";

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

/** The ids the workload sends, in arrival order, read from the workload source itself. */
export function workloadIds(scenario: Scenario, seed = scenario.seed): string[] {
  const source = workloadSource(scenario.workload, new RngStreams(seed));
  const ids: string[] = [];
  for (let r = source.next(); r !== null; r = source.next()) ids.push(r.id);
  return ids;
}

/** Request id → the instance its (single, unified) leg ran on, in arrival order. */
export function routeOf(run: Run): Map<string, string> {
  const byArrival = [...run.records].sort((a, b) => a.arrival_s - b.arrival_s);
  return new Map(byArrival.map((r) => [r.id, r.legs[0]!.instance]));
}

/**
 * Every request the workload sends finished exactly once with one finish reason, and every
 * instance is back to an empty engine with all its blocks free.
 */
export function expectEveryRequestFinishedOnce(run: Run, scenario: Scenario, seed: number): void {
  const expected = workloadIds(scenario, seed);
  const finished = run.records.map((r) => r.id);
  const counts = new Map<string, number>();
  for (const id of finished) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = expected.filter((id) => !counts.has(id));
  const unknown = finished.filter((id) => !expected.includes(id));
  expect({ twice, missing, unknown }).toEqual({ twice: [], missing: [], unknown: [] });
  expect(run.result.requestsArrived).toBe(expected.length);
  expect(run.result.requestsFinished).toBe(expected.length);
  for (const record of run.records) {
    expect(["stop", "length", "abort", "error"]).toContain(record.finish_reason);
    expect(record.legs.length).toBeGreaterThan(0);
    expect(record.legs[record.legs.length - 1]!.finish_reason).toBe(record.finish_reason);
  }
}

export function expectDrained(run: Run): void {
  for (const instance of run.cluster.instances) {
    const kv = instance.engine.kvCacheManager;
    const pool = kv.blockPool;
    const held = pool.blocks.filter((b) => !b.isNull && b.refCnt !== 0).map((b) => b.blockId);
    expect({
      instance: instance.name,
      free: pool.getNumFreeBlocks(),
      heldBlocks: held,
      requestsWithBlocks: kv.numRequestsWithBlocks,
      running: instance.engine.scheduler.running.length,
      waiting: instance.engine.scheduler.numWaiting,
      unfinished: instance.numUnfinished,
    }).toEqual({
      instance: instance.name,
      free: instance.config.engine.num_gpu_blocks - 1,
      heldBlocks: [],
      requestsWithBlocks: 0,
      running: 0,
      waiting: 0,
      unfinished: 0,
    });
  }
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
