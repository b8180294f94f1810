// Over random P/D clusters with injected KV load failures and leases of every length, under both
// kv_load_failure_policy values: every request ends exactly once, failures end or recompute the
// decode leg as the policy says, and every held block comes back
// (docs/vllm-reference.md#the-pd-flow, #kv-load-failure).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import { type FaultDraw, clusterDraw, faultDraw, scenarioOf } from "./generators.ts";
import {
  type PdRun,
  type TransferSeen,
  decodeLeg,
  expectEveryRequestFinishedOnce,
  expectNothingHeld,
  reportedBy,
  runPd,
  sampleOverRole,
} from "./helpers.ts";

type Reached = Record<
  "wholeFailure" | "partialFailure" | "leaseExpiredBeforeRead" | "leaseExpiredDuringRead",
  boolean
>;

/** The first prompt token a read covers: the decode side's local hit L = N − tokens read. */
function firstTokenOf(record: RequestRecord, t: TransferSeen): number {
  return record.prompt_tokens - t.tokens;
}

function checkFaults(faults: FaultDraw, run: PdRun): Reached {
  const reached: Reached = {
    wholeFailure: false,
    partialFailure: false,
    leaseExpiredBeforeRead: false,
    leaseExpiredDuringRead: false,
  };
  const c = run.cluster;
  const byRequest = new Map<string, TransferSeen>();
  for (const t of run.transfers) {
    // One transfer per request: the connector clears do_remote_prefill once the pull is queued.
    expect({ id: t.requestId, repeated: byRequest.has(t.requestId) }).toEqual({
      id: t.requestId,
      repeated: false,
    });
    byRequest.set(t.requestId, t);
  }
  const holdEnds = new Map(run.holdEnds.map((h) => [`${h.engineId}/${h.requestId}`, h]));
  expect(holdEnds.size).toBe(run.holdEnds.length);

  let failed = 0;
  for (const record of run.records) {
    const leg = decodeLeg(record)!;
    const t = byRequest.get(record.id)!;
    const n = record.prompt_tokens;
    const l = firstTokenOf(record, t);
    // The prefill side's hold ends once: "read" after a clean read, else when the lease runs out.
    const hold = holdEnds.get(`${record.legs[0]!.instance}/${record.id}`);
    expect({ id: record.id, hold: hold?.outcome }).toEqual({
      id: record.id,
      hold: t.outcome === "ok" ? "read" : "lease_expired",
    });
    if (t.outcome === "ok") {
      expect({ id: record.id, finish: leg.finish_reason, c: leg.num_cached_tokens }).toEqual({
        id: record.id,
        finish: record.finish_reason,
        c: n - 1,
      });
      expect(["stop", "length"]).toContain(leg.finish_reason);
      continue;
    }
    failed += 1;
    const firstInvalid = t.firstInvalidToken!;
    if (t.outcome === "load_failed") {
      if (firstInvalid === l) reached.wholeFailure = true;
      else reached.partialFailure = true;
    } else {
      // The lease ran out before the read or during it; either way nothing valid arrived.
      expect(firstInvalid).toBe(l);
      if (t.holdEndedBefore) reached.leaseExpiredBeforeRead = true;
      else reached.leaseExpiredDuringRead = true;
    }
    if (faults.policy === "fail") {
      expect({
        id: record.id,
        finish: leg.finish_reason,
        clientFinish: record.finish_reason,
        tokens: leg.num_output_tokens,
        firstToken: leg.first_token_s,
        truth: leg.truth,
        c: leg.num_cached_tokens,
      }).toEqual({
        id: record.id,
        finish: "error",
        clientFinish: "error",
        tokens: 0,
        firstToken: null,
        truth: null,
        c: -1,
      });
      continue;
    }
    // recompute: the valid prefix k·B (the first invalid token is a block boundary) is kept and
    // the decode side computes the rest itself; with nothing valid it starts over from a fresh
    // local lookup, and the connector, its pull used, offers nothing.
    expect(["stop", "length"]).toContain(leg.finish_reason);
    expect(leg.num_output_tokens).toBeGreaterThan(0);
    if (firstInvalid > 0) {
      expect({
        id: record.id,
        c: leg.num_cached_tokens,
        // The first counts stay (docs/vllm-reference.md#what-the-versions-get-wrong).
        external: reportedBy(leg, "vllm-pr37460").external_kv_transfer,
      }).toEqual({ id: record.id, c: firstInvalid, external: n - l });
    } else {
      expect({
        id: record.id,
        e: leg.num_external_computed_tokens,
        external: reportedBy(leg, "vllm-pr37460").external_kv_transfer,
      }).toEqual({ id: record.id, e: 0, external: 0 });
      expect(leg.num_cached_tokens).toBeLessThan(n);
    }
  }

  // Every P/D request's hold ended; those whose read failed ended by lease.
  const held = (outcome: string) =>
    sampleOverRole(c, "prefill", "pdsim:kv_held_requests_total", { outcome });
  expect({
    read: held("read"),
    leaseExpired: held("lease_expired"),
    releasedUnread: held("released_unread"),
  }).toEqual({ read: run.records.length - failed, leaseExpired: failed, releasedUnread: 0 });
  const errors = sampleOverRole(c, "decode", "vllm:request_success_total", {
    finished_reason: "error",
  });
  expect(errors).toBe(faults.policy === "fail" ? failed : 0);
  // Reads cut short by the lease move nothing; the rest count on both sides alike.
  const moved = run.transfers
    .filter((t) => t.outcome !== "lease_expired")
    .reduce((sum, t) => sum + t.tokens, 0);
  expect({
    sent: sampleOverRole(c, "prefill", "pdsim:kv_transfer_tokens_total"),
    received: sampleOverRole(c, "decode", "pdsim:kv_transfer_tokens_total"),
  }).toEqual({ sent: moved, received: moved });
  return reached;
}

describe("KV load failures and leases over random P/D clusters", () => {
  it("every request ends exactly once, failed loads end in error under fail and are recomputed under recompute, and every held block comes back", () => {
    const reached: Reached[] = [];
    fc.assert(
      fc.property(clusterDraw(faultDraw), (draw) => {
        const scenario = scenarioOf(draw);
        const run = runPd(scenario, draw.seed);
        expectEveryRequestFinishedOnce(run, scenario, draw.seed);
        for (const record of run.records) {
          expect(record.legs.map((l) => l.role)).toEqual(["prefill", "decode"]);
        }
        reached.push(checkFaults(draw.faults, run));
        expectNothingHeld(run.cluster);
      }),
      propertyParamsWithRuns(150),
    );
    expectReached("P/D fault generator", reached, 0.1);
  });
});
