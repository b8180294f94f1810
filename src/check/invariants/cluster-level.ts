// Invariants across the cluster: nothing lost, nothing created on the links, time only forward.

import { RngStreams, secondsToUs } from "../../../sim/index.ts";
import type { ClusterRunResult } from "../../cluster/cluster.ts";
import type { RequestRecord } from "../../cluster/request-record.ts";
import { FINISH_REASONS } from "../../engine/request-status.ts";
import type { Scenario } from "../../scenario/types.ts";
import { type ClientRequest, workloadSource } from "../../workload/workload.ts";
import type { Invariant, Violation } from "./types.ts";

export const oneFinishPerRequest: Invariant = {
  id: "one-finish-per-request",
  statement:
    "Every request the workload sends arrives once and finishes exactly once, with a finish reason, on every instance it visited; faults included.",
  level: "cluster",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => {
    const sent = workloadIds(run.scenario, run.seed, run.outputs.records);
    return lostOrDuplicated(sent, run.outputs.result, run.outputs.records);
  },
};

/**
 * The ids the workload sends: those it knows in advance, in arrival order, then the follow-ups
 * (a session's later turns) it asks for given what each recorded request received. A follow-up
 * of a request with no record cannot be known, and that request shows as never finished.
 */
export function workloadIds(
  scenario: Scenario,
  seed: number,
  records: readonly RequestRecord[] = [],
): string[] {
  const source = workloadSource(scenario.workload, new RngStreams(seed));
  const ids: string[] = [];
  const byId = new Map(records.map((r) => [r.id, r]));
  // Only follow-ups wait here: a request is let go once its own follow-up is known.
  const followUps: ClientRequest[] = [];
  const visit = (request: ClientRequest) => {
    ids.push(request.id);
    const record = byId.get(request.id);
    if (source.followUp === undefined || record === undefined) return;
    const follow = source.followUp({
      request,
      outputTokens: record.legs.at(-1)?.num_output_tokens ?? 0,
      time: secondsToUs(record.finish_s),
    });
    if (follow !== null) followUps.push(follow);
  };
  for (let r = source.next(); r !== null; r = source.next()) visit(r);
  for (let i = 0; i < followUps.length; i++) visit(followUps[i]!);
  return ids;
}

/**
 * What breaks `one-finish-per-request` given the ids sent, the run's result (null if it stopped
 * early) and its records.
 */
export function lostOrDuplicated(
  sent: readonly string[],
  result: ClusterRunResult | null,
  records: readonly RequestRecord[],
): Violation[] {
  const violations: Violation[] = [];
  const add = (where: string, message: string, requestId?: string) =>
    violations.push({
      subject: "simulator",
      where,
      message,
      ...(requestId === undefined ? {} : { requestId }),
    });
  const n = sent.length;
  if (result !== null && (result.requestsArrived !== n || result.requestsFinished !== n)) {
    add(
      "cluster",
      `${n} requests sent, ${result.requestsArrived} arrived, ${result.requestsFinished} finished`,
    );
  }
  const expected = new Set(sent);
  const seen = new Set<string>();
  for (const record of records) {
    if (seen.has(record.id)) add(record.id, "finished twice", record.id);
    if (!expected.has(record.id)) add(record.id, "finished but was never sent", record.id);
    seen.add(record.id);
    const last = record.legs.at(-1);
    const reasons = [record.finish_reason, ...record.legs.map((l) => l.finish_reason)];
    if (last === undefined || reasons.some((r) => !FINISH_REASONS.includes(r))) {
      add(record.id, `finished without a reason on some leg (${reasons.join(", ")})`, record.id);
    } else if (last.finish_reason !== record.finish_reason) {
      add(
        record.id,
        `finished '${record.finish_reason}' but its last leg '${last.finish_reason}'`,
        record.id,
      );
    }
  }
  const missing = sent.filter((id) => !seen.has(id));
  if (missing.length > 0) {
    add(
      "cluster",
      `${missing.length} of ${n} requests never finished (${missing.slice(0, 5).join(", ")})`,
      missing[0],
    );
  }
  return violations;
}

export const linkTokensConserved: Invariant = {
  id: "link-tokens-conserved",
  statement:
    "On every prefill→decode link, the tokens and bytes the decode side counts as received equal those the prefill side counts as sent.",
  level: "cluster",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => {
    const violations: Violation[] = [];
    const instances = run.cluster.instances;
    for (const p of instances.filter((i) => i.role === "prefill")) {
      for (const d of instances.filter((i) => i.role === "decode")) {
        for (const metric of ["pdsim:kv_transfer_tokens_total", "pdsim:kv_transfer_bytes_total"]) {
          const sent =
            p.expositions[0]!.sampleValue(metric, { peer: d.name, direction: "send" }) ?? 0;
          const got =
            d.expositions[0]!.sampleValue(metric, { peer: p.name, direction: "recv" }) ?? 0;
          if (sent === got) continue;
          violations.push({
            subject: "simulator",
            where: `${p.name}->${d.name}`,
            message: `${metric}: ${sent} sent, ${got} received`,
          });
        }
      }
    }
    return violations;
  },
};

export const tierTokensConserved: Invariant = {
  id: "tier-tokens-conserved",
  statement:
    "In every external KV cache tier, the tokens stored less the tokens evicted are the tokens it holds, never more than its capacity; a load takes only chunks whose store has ended (a load of any other stops the run); once the run drains, no chunk is still being stored or pinned by a load, and no copy is on the tier's paths.",
  level: "cluster",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => {
    const violations: Violation[] = [];
    for (const tier of run.cluster.tiers.values()) {
      const t = tier.totals;
      const capacity = tier.capacityChunks * tier.chunkTokens;
      if (t.storedTokens - t.evictedTokens !== t.residentTokens || t.residentTokens > capacity) {
        violations.push({
          subject: "simulator",
          where: tier.name,
          message: `stored ${t.storedTokens} − evicted ${t.evictedTokens} tokens, but it holds ${t.residentTokens} (capacity ${capacity})`,
        });
      }
      // A run that stopped short (an error) is run-completes' to report.
      if (run.outputs.error !== null) continue;
      const { storing, pinned } = tier.inFlight();
      const copies = tier.loadLink.activeTransfers + tier.storeLink.activeTransfers;
      if (storing === 0 && pinned === 0 && copies === 0) continue;
      violations.push({
        subject: "simulator",
        where: tier.name,
        message: `after the run, ${storing} chunks still being stored, ${pinned} pinned by loads and ${copies} copies in flight`,
      });
    }
    return violations;
  },
};

export const clockMonotone: Invariant = {
  id: "clock-monotone",
  statement:
    "The simulated clock never goes back: engine steps, transfers, finishes and log lines happen in non-decreasing time.",
  level: "cluster",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch(run) {
    const violations: Violation[] = [];
    let last = 0;
    run.onTime((now) => {
      if (now < last && violations.length === 0) {
        violations.push({
          subject: "simulator",
          where: "clock",
          message: `the clock went from ${last} µs back to ${now} µs`,
        });
      }
      last = Math.max(last, now);
    });
    return () => violations;
  },
};

export const CLUSTER_INVARIANTS: readonly Invariant[] = [
  oneFinishPerRequest,
  linkTokensConserved,
  tierTokensConserved,
  clockMonotone,
];
