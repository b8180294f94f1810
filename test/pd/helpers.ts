// Helpers for the P/D tests: build a disaggregated scenario in-process, run it while recording
// what crossed the transfer fabric, step it one kernel event at a time, and check conservation.
import { vi } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { Instance } from "../../src/cluster/instance.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import type { Request } from "../../src/engine/request.ts";
import type { RequestStatus } from "../../src/engine/request-status.ts";
import type { HoldOutcome, TransferRecord } from "../../src/kv-transfer/transfer-fabric.ts";
import type { ExplicitRequestConfig, Scenario } from "../../src/scenario/index.ts";
import { expectDrained, type Run, scenarioFrom } from "../cluster/helpers.ts";

export { expectEveryRequestFinishedOnce, reportedBy, scenarioFrom } from "../cluster/helpers.ts";

/** A step-time model with round numbers, so expected durations can be worked out by hand. */
export const STEP_TIME = {
  base_ms: 4,
  per_prefill_token_us: 25,
  per_decode_seq_us: 30,
  per_context_token_ns: 0,
};

export const PD_BLOCK_SIZE = 16;
export const KV_BYTES_PER_TOKEN = 114688;
export const LATENCY_US = 500;
const BANDWIDTH_BYTES_PER_US = 25_000; // 25 GB/s

/** An explicit request as a scenario file writes it (the loader adds `line`). */
export type ExplicitRequest = Omit<ExplicitRequestConfig, "line">;

/**
 * One prefill instance `p` and one decode instance `d` (block size 16, 64 blocks) joined by a
 * 0.5 ms, 25 GB/s link, with the NIXL connector; `kvTransfer` adds or overrides settings.
 */
export function onePOneD(
  requests: ExplicitRequest[],
  kvTransfer: Record<string, unknown> = {},
  seed = 1,
): Scenario {
  return scenarioFrom({
    seed,
    model: { kv_bytes_per_token: KV_BYTES_PER_TOKEN, step_time: STEP_TIME },
    engine: {
      block_size: PD_BLOCK_SIZE,
      num_gpu_blocks: 64,
      max_model_len: 512,
      log_stats_interval_s: 1,
    },
    instances: [
      { name: "p", role: "prefill" },
      { name: "d", role: "decode" },
    ],
    kv_transfer: {
      connector: "nixl",
      link: { latency_ms: LATENCY_US / 1000, bandwidth_gb_per_s: 25 },
      ...kvTransfer,
    },
    workload: { requests },
  });
}

/** Microseconds a lone read of `tokens` takes on that link: latency, then the bytes at full bandwidth. */
export function readTimeUs(tokens: number): number {
  return LATENCY_US + Math.ceil((tokens * KV_BYTES_PER_TOKEN) / BANDWIDTH_BYTES_PER_US);
}

/** How a prefill side's hold ended, and when (simulated µs). */
export interface HoldEnd {
  engineId: string;
  requestId: string;
  outcome: HoldOutcome;
  time: number;
}

/** A finished transfer, and whether the hold it read from had already ended when it finished. */
export interface TransferSeen extends TransferRecord {
  holdEndedBefore: boolean;
}

export interface PdRun extends Run {
  transfers: TransferSeen[];
  holdEnds: HoldEnd[];
}

/** Builds the cluster with a listener that records requests, transfers and hold ends. */
export function pdCluster(
  scenario: Scenario,
  seed = scenario.seed,
): {
  cluster: Cluster;
  records: RequestRecord[];
  transfers: TransferSeen[];
  holdEnds: HoldEnd[];
} {
  const records: RequestRecord[] = [];
  const transfers: TransferSeen[] = [];
  const holdEnds: HoldEnd[] = [];
  const ended = new Set<string>();
  const cluster: Cluster = new Cluster(scenario, seed, {
    onRequestFinished: (record) => records.push(record),
    onTransfer: (record) =>
      transfers.push({
        ...record,
        holdEndedBefore: ended.has(`${record.from}/${record.requestId}`),
      }),
    onHoldEnded: (engineId, requestId, outcome) => {
      ended.add(`${engineId}/${requestId}`);
      holdEnds.push({ engineId, requestId, outcome, time: cluster.sim.now });
    },
  });
  return { cluster, records, transfers, holdEnds };
}

export function runPd(scenario: Scenario, seed = scenario.seed): PdRun {
  const built = pdCluster(scenario, seed);
  const result = built.cluster.run();
  return { ...built, result };
}

/**
 * Sets the cluster going (first arrival and log timers scheduled) without running the kernel,
 * so that the test can call `cluster.sim.step()` one event at a time.
 */
export function startStepping(cluster: Cluster): void {
  const run = vi.spyOn(cluster.sim, "run").mockImplementationOnce(() => undefined);
  cluster.run();
  run.mockRestore();
}

export function instance(cluster: Cluster, name: string): Instance {
  const found = cluster.instances.find((i) => i.name === name);
  if (found === undefined) throw new Error(`no instance ${name}`);
  return found;
}

/** The engine's Request object for `requestId`, if it is running or waiting there. */
export function engineRequest(inst: Instance, requestId: string): Request | undefined {
  const scheduler = inst.engine.scheduler;
  return [...scheduler.running, ...scheduler.waitingRequests()].find(
    (r) => r.requestId === requestId,
  );
}

/** One Prometheus sample of one instance, summed over the series matching `labels`. */
export function sample(
  cluster: Cluster,
  name: string,
  metric: string,
  labels: Record<string, string> = {},
): number {
  const value = instance(cluster, name).statLoggers.prometheus.sampleValue(metric, labels);
  if (value === undefined) throw new Error(`${name} exports no ${metric}`);
  return value;
}

/** Sums a sample over every instance of one role. */
export function sampleOverRole(
  cluster: Cluster,
  role: Instance["role"],
  metric: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const i of cluster.instances)
    if (i.role === role) total += sample(cluster, i.name, metric, labels);
  return total;
}

/** `vllm:kv_cache_usage_perc` = 1 − free / (num_gpu_blocks − 1) with `blocks` blocks in use. */
export function usageOf(inst: Instance, blocks: number): number {
  const total = inst.config.engine.num_gpu_blocks - 1;
  return 1 - (total - blocks) / total;
}

/**
 * Nothing is left held: no prefill side holds blocks for a reader, and every instance's engine is
 * empty with its whole pool free.
 */
export function expectNothingHeld(cluster: Cluster): void {
  expectDrained({ cluster });
}

/** What one kernel event left behind on one instance, for request `id`. */
export interface Snapshot {
  time: number;
  status: RequestStatus | null;
  numComputedTokens: number;
  blocks: number;
  usage: number;
  running: number;
  waiting: number;
  held: number;
  gaugeUsage: number;
  gaugeRunning: number;
  gaugeWaiting: number;
}

/** Steps the whole run one event at a time, snapshotting `id` on every instance after each event. */
export function stepThrough(cluster: Cluster, id: string): Map<string, Snapshot[]> {
  const seen = new Map<string, Request>();
  const snapshots = new Map<string, Snapshot[]>(cluster.instances.map((i) => [i.name, []]));
  startStepping(cluster);
  while (cluster.sim.step()) {
    for (const inst of cluster.instances) {
      const live = engineRequest(inst, id);
      if (live !== undefined) seen.set(inst.name, live);
      // Once finished the request leaves the queues; its object still tells its final state.
      const request = seen.get(inst.name);
      const scheduler = inst.engine.scheduler;
      snapshots.get(inst.name)!.push({
        time: cluster.sim.now,
        status: request?.status ?? null,
        numComputedTokens: request?.numComputedTokens ?? 0,
        blocks: request === undefined ? 0 : inst.engine.kvCacheManager.getBlockIds(request).length,
        usage: inst.engine.kvCacheManager.usage,
        running: scheduler.running.length,
        waiting: scheduler.numWaiting,
        held: scheduler.numHeldRequests,
        gaugeUsage: sample(cluster, inst.name, "vllm:kv_cache_usage_perc"),
        gaugeRunning: sample(cluster, inst.name, "vllm:num_requests_running"),
        gaugeWaiting: sample(cluster, inst.name, "vllm:num_requests_waiting"),
      });
    }
  }
  return snapshots;
}

/** The statuses a request went through, each once, in order. */
export function statusSequence(snapshots: Snapshot[]): (RequestStatus | null)[] {
  const out: (RequestStatus | null)[] = [];
  for (const s of snapshots) if (s.status !== null && out.at(-1) !== s.status) out.push(s.status);
  return out;
}

/**
 * Records, for each scheduling pass of one instance that gives `id` tokens, where they start
 * (`numComputedBefore`) and how many there are.
 */
export function spyOnScheduled(
  cluster: Cluster,
  name: string,
  id: string,
): { from: number; tokens: number }[] {
  const chunks: { from: number; tokens: number }[] = [];
  const scheduler = instance(cluster, name).engine.scheduler;
  const schedule = scheduler.schedule.bind(scheduler);
  vi.spyOn(scheduler, "schedule").mockImplementation((now) => {
    const output = schedule(now);
    for (const s of output.scheduled) {
      if (s.request.requestId === id) {
        chunks.push({ from: s.numComputedBefore, tokens: s.numNewTokens });
      }
    }
    return output;
  });
  return chunks;
}

/** The decode leg of a P/D record (the second leg), or undefined if the request stopped at P. */
export function decodeLeg(record: RequestRecord): RequestRecord["legs"][number] | undefined {
  return record.legs.length === 2 ? record.legs[1] : undefined;
}
