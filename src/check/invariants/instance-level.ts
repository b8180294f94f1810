// Invariants about one instance's exposition and KV cache: counters that only grow, lookups
// that count what they looked up, histograms that see every finished request, blocks that are
// never lost.

import type { Cluster } from "../../cluster/cluster.ts";
import type { Instance } from "../../cluster/instance.ts";
import { FINISH_REASONS } from "../../engine/request-status.ts";
import { PROFILE_NAMES } from "../../accounting/profiles.ts";
import type {
  CumulativeValues,
  PrometheusStatLogger,
} from "../../metrics/prometheus-stat-logger.ts";
import { isProfile, profileSubject } from "../subjects.ts";
import type { Invariant, Violation } from "./types.ts";

export const incrementsNonNegative: Invariant = {
  id: "increments-non-negative",
  statement:
    "No counter increment is negative (vLLM's Prometheus client raises on one, and its output handler dies).",
  level: "instance",
  subjects: PROFILE_NAMES,
  promisedBy: ["vllm-pre33290", "vllm-pr37460"],
  watch: (run) => () =>
    run.outputs.exporterErrors.map((e) => ({
      subject: profileSubject(e.profile),
      where: e.instance,
      ...(e.requestIds[0] === undefined ? {} : { requestId: e.requestIds[0] }),
      message: `${e.metric} += ${e.amount} (requests ${e.requestIds.join(", ")})`,
    })),
};

export const countersNeverDecrease: Invariant = {
  id: "counters-never-decrease",
  statement:
    "Scraped after every engine step, no counter, histogram bucket, sum or count is ever lower than at the scrape before.",
  level: "instance",
  subjects: PROFILE_NAMES,
  promisedBy: PROFILE_NAMES,
  watch(run) {
    const violations: Violation[] = [];
    const last = new Map<PrometheusStatLogger, CumulativeValues>();
    run.onStep(({ instance }) => {
      for (const exposition of instance.expositions) {
        const now = exposition.cumulativeValues();
        const before = last.get(exposition);
        last.set(exposition, now);
        if (before === undefined) continue;
        const family = firstDecrease(before, now);
        if (family === -1) continue;
        const subject = profileSubject(exposition.profile.name);
        if (violations.some((v) => v.subject === subject)) continue;
        violations.push({
          subject,
          where: instance.name,
          message: `${exposition.familyNames()[family]} went down at t=${run.cluster.sim.now} µs`,
        });
      }
    });
    return () => violations;
  },
};

/** The index of the first family with a value lower than before, or −1. */
function firstDecrease(before: CumulativeValues, now: CumulativeValues): number {
  const { offsets } = before;
  for (let f = 0; f + 1 < offsets.length; f++) {
    const from = offsets[f]!;
    const to = offsets[f + 1]!;
    const shift = now.offsets[f]! - from;
    for (let i = from; i < to; i++) if (!(now.values[i + shift]! >= before.values[i]!)) return f;
  }
  return -1;
}

export const externalQueriesMatchLookups: Invariant = {
  id: "external-queries-match-lookups",
  statement:
    "Each connector lookup of a request never preempted queries exactly the N − L prompt tokens the local prefix cache did not hit, and hits what the connector offered: vllm:external_prefix_cache_queries_total and _hits_total grow by exactly that each step.",
  level: "instance",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch(run) {
    const violations: Violation[] = [];
    const last = new Map<Instance, { queries: number; hits: number }>();
    run.onStep(({ instance, schedulerOutput }) => {
      const e = instance.expositions[0]!;
      const now = {
        queries: e.sampleValue("vllm:external_prefix_cache_queries_total") ?? 0,
        hits: e.sampleValue("vllm:external_prefix_cache_hits_total") ?? 0,
      };
      const before = last.get(instance) ?? { queries: 0, hits: 0 };
      last.set(instance, now);
      const looked = { queries: 0, hits: 0 };
      // Every instance with a connector looks up: P/D instances, and unified ones with a tier.
      if (instance.engine.scheduler.connector !== null) {
        for (const a of schedulerOutput?.admissions ?? []) {
          // vLLM counts a preempted request's lookups apart, in stats it does not export.
          if (a.request.numPreemptions > 0) continue;
          looked.queries += a.numTokens - a.localHit;
          looked.hits += a.external;
        }
      }
      const grew = { queries: now.queries - before.queries, hits: now.hits - before.hits };
      if (grew.queries === looked.queries && grew.hits === looked.hits) return;
      if (violations.length > 0) return;
      violations.push({
        subject: "simulator",
        where: instance.name,
        message: `at t=${run.cluster.sim.now} µs the lookups asked ${looked.queries} and were offered ${looked.hits}, the counters grew by ${grew.queries} and ${grew.hits}`,
      });
    });
    return () => violations;
  },
};

/** vLLM observes these once per finished request, whatever its finish reason. */
const PER_REQUEST_HISTOGRAMS = [
  "vllm:e2e_request_latency_seconds",
  "vllm:request_prompt_tokens",
  "vllm:request_generation_tokens",
  "vllm:request_max_num_generation_tokens",
  "vllm:request_params_n",
  "vllm:request_params_max_tokens",
  "vllm:request_queue_time_seconds",
  "vllm:request_inference_time_seconds",
  "vllm:request_prefill_time_seconds",
  "vllm:request_decode_time_seconds",
  "vllm:request_prefill_kv_computed_tokens",
];

export const histogramsCountFinished: Invariant = {
  id: "histograms-count-finished",
  statement:
    "Every per-request histogram's _count equals vllm:request_success_total summed over finish reasons, which equals the requests the instance's engine finished.",
  level: "instance",
  subjects: PROFILE_NAMES,
  promisedBy: PROFILE_NAMES,
  watch: (run) => () => {
    const violations: Violation[] = [];
    const finished = new Map<string, number>();
    for (const record of run.outputs.records) {
      for (const leg of record.legs) {
        // A leg the instance refused (a prompt too long for it) never reached its engine.
        if (leg.error !== undefined) continue;
        finished.set(leg.instance, (finished.get(leg.instance) ?? 0) + 1);
      }
    }
    for (const instance of run.cluster.instances) {
      const legs = finished.get(instance.name) ?? 0;
      for (const e of instance.expositions) {
        const successes = FINISH_REASONS.reduce(
          (sum, reason) =>
            sum + (e.sampleValue("vllm:request_success_total", { finished_reason: reason }) ?? 0),
          0,
        );
        const counts = PER_REQUEST_HISTOGRAMS.map(
          (name) => [name, e.sampleValue(`${name}_count`) ?? 0] as const,
        );
        const off = counts.find(([, count]) => count !== legs);
        if (successes === legs && off === undefined) continue;
        violations.push({
          subject: profileSubject(e.profile.name),
          where: instance.name,
          message: `${legs} requests finished here; vllm:request_success_total is ${successes}${off === undefined ? "" : `, ${off[0]}_count is ${off[1]}`}`,
        });
      }
    }
    return violations.filter((v) => isProfile(v.subject));
  },
};

export const blocksConserved: Invariant = {
  id: "blocks-conserved",
  statement:
    "After every engine step, each KV block is free or referenced, and each block's reference count equals the number of requests holding it: free + in use + the null block = num_gpu_blocks.",
  level: "instance",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch(run) {
    const violations: Violation[] = [];
    run.onStep(({ instance }) => {
      if (violations.length > 0) return;
      const problem = blockAccountingProblem(instance);
      if (problem === null) return;
      violations.push({
        subject: "simulator",
        where: instance.name,
        message: `${problem} at t=${run.cluster.sim.now} µs`,
      });
    });
    return () => violations;
  },
};

/**
 * Blocks the free-queue scan looks at in one step: all of them in a pool this size or smaller;
 * in a larger one (a trace's million blocks), the next this many, so that every block is looked
 * at within a few steps instead of a million of them every step.
 */
const SCAN_BLOCKS_PER_STEP = 65_536;
const scanFrom = new WeakMap<Instance, number>();

function blockAccountingProblem(instance: Instance): string | null {
  const kv = instance.engine.scheduler.kvCacheManager;
  const pool = kv.blockPool;
  const holders = kv.blockHolders();
  for (const [block, held] of holders) {
    if (!block.isNull && block.refCnt !== held) {
      return `block ${block.blockId} has refCnt ${block.refCnt} but ${held} requests hold it`;
    }
  }
  // A referenced block that nobody holds, even one still in the free queue.
  const blocks = pool.blocks;
  const start = scanFrom.get(instance) ?? 0;
  const count = Math.min(blocks.length, SCAN_BLOCKS_PER_STEP);
  for (let k = 0; k < count; k++) {
    const block = blocks[(start + k) % blocks.length]!;
    // Most blocks are free: one comparison each, and the map only for referenced ones.
    if (block.refCnt === 0 || block.isNull || holders.has(block)) continue;
    return `block ${block.blockId} has refCnt ${block.refCnt} but 0 requests hold it`;
  }
  scanFrom.set(instance, (start + count) % blocks.length);
  // Every referenced block is held, so a block both free and held makes this sum overshoot.
  const free = pool.getNumFreeBlocks();
  if (free + holders.size + 1 === pool.numGpuBlocks) return null;
  return `${free} free + ${holders.size} in use + 1 null ≠ ${pool.numGpuBlocks} blocks`;
}

export const blocksReleasedAtDrain: Invariant = {
  id: "blocks-released-at-drain",
  statement:
    "Once the run drains, no request holds a KV block on any instance and no prefill instance holds blocks for a reader.",
  level: "instance",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => undrained(run.cluster),
};

/** What breaks `blocks-released-at-drain` in a cluster whose run has ended. */
export function undrained(cluster: Cluster): Violation[] {
  const violations: Violation[] = [];
  for (const instance of cluster.instances) {
    const scheduler = instance.engine.scheduler;
    const kv = scheduler.kvCacheManager;
    const pool = kv.blockPool;
    const free = pool.getNumFreeBlocks();
    const total = pool.numGpuBlocks - 1;
    const referenced = pool.blocks.filter((b) => !b.isNull && b.refCnt !== 0).length;
    const queued = scheduler.running.length + scheduler.numWaiting + instance.numUnfinished;
    if (kv.numRequestsWithBlocks === 0 && free === total && referenced === 0 && queued === 0) {
      continue;
    }
    violations.push({
      subject: "simulator",
      where: instance.name,
      message:
        `${kv.numRequestsWithBlocks} requests still hold blocks; ${free} of ${total} blocks free, ` +
        `${referenced} referenced; ${scheduler.running.length} running, ${scheduler.numWaiting} waiting, ` +
        `${instance.numUnfinished} unfinished`,
    });
  }
  const held = cluster.fabric?.numHeld ?? 0;
  if (held > 0) {
    violations.push({
      subject: "simulator",
      where: "fabric",
      message: `${held} requests' blocks still held for a reader`,
    });
  }
  return violations;
}

export const INSTANCE_INVARIANTS: readonly Invariant[] = [
  incrementsNonNegative,
  countersNeverDecrease,
  externalQueriesMatchLookups,
  histogramsCountFinished,
  blocksConserved,
  blocksReleasedAtDrain,
];
