// Over random P/D clusters: what the prefill instances send is what the decode instances
// receive, each transfer is exactly the prompt tokens the decode side lacked, and a drained run
// holds nothing (docs/vllm-reference.md#the-pd-flow, steps 2, 4 and 6; #scheduler for
// preemption on the decode side).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import { type ClusterDraw, clusterDraw, scenarioOf } from "./generators.ts";
import {
  type PdRun,
  decodeLeg,
  expectEveryRequestFinishedOnce,
  expectNothingHeld,
  reportedBy,
  runPd,
  sample,
  sampleOverRole,
} from "./helpers.ts";

/** Two reads on the same link whose lifetimes overlap. */
function overlappingReads(run: PdRun): boolean {
  const byLink = new Map<string, { start: number; end: number }[]>();
  for (const t of run.transfers) {
    const key = `${t.from}->${t.to}`;
    const list = byLink.get(key) ?? [];
    list.push({ start: t.startTime, end: t.endTime });
    byLink.set(key, list);
  }
  for (const list of byLink.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.start < b.end && b.start < a.end) return true;
      }
    }
  }
  return false;
}

function checkConservation(draw: ClusterDraw, run: PdRun, scenario: ReturnType<typeof scenarioOf>) {
  const c = run.cluster;
  expectEveryRequestFinishedOnce(run, scenario, draw.seed);
  expectNothingHeld(c);

  // Sent = received, per link and in total, in tokens and bytes.
  const kvBytes = scenario.model.kv_bytes_per_token;
  for (const p of c.instances.filter((i) => i.role === "prefill")) {
    for (const d of c.instances.filter((i) => i.role === "decode")) {
      for (const metric of ["pdsim:kv_transfer_tokens_total", "pdsim:kv_transfer_bytes_total"]) {
        const sent = sample(c, p.name, metric, { peer: d.name, direction: "send" });
        const received = sample(c, d.name, metric, { peer: p.name, direction: "recv" });
        expect({ link: `${p.name}->${d.name}`, metric, sent }).toEqual({
          link: `${p.name}->${d.name}`,
          metric,
          sent: received,
        });
      }
    }
  }
  const sentTokens = sampleOverRole(c, "prefill", "pdsim:kv_transfer_tokens_total");
  const recvTokens = sampleOverRole(c, "decode", "pdsim:kv_transfer_tokens_total");
  const sentBytes = sampleOverRole(c, "prefill", "pdsim:kv_transfer_bytes_total");
  const recvBytes = sampleOverRole(c, "decode", "pdsim:kv_transfer_bytes_total");
  expect({ recvTokens, sentBytes, recvBytes }).toEqual({
    recvTokens: sentTokens,
    sentBytes: sentTokens * kvBytes,
    recvBytes: sentTokens * kvBytes,
  });

  // One read per decode leg, of exactly N − L tokens (L: the decode side's local hit).
  const readsOf = new Map<string, number>();
  for (const t of run.transfers) {
    expect(t.outcome).toBe("ok");
    readsOf.set(t.requestId, (readsOf.get(t.requestId) ?? 0) + 1);
  }
  let expectedTokens = 0;
  for (const record of run.records) {
    expect(record.legs.map((l) => l.role)).toEqual(["prefill", "decode"]);
    const leg = decodeLeg(record)!;
    const n = record.prompt_tokens;
    const l = leg.truth!.local_cache_hit;
    const transfer = run.transfers.find((t) => t.requestId === record.id)!;
    // The connector is asked again on any waiting pass with num_computed_tokens = 0, and by then
    // it has nothing left to offer: after a preemption, and after the load of a 1-token prompt
    // (N − 1 = 0 computed tokens), which also re-records the prefill stats
    // (docs/vllm-reference.md#the-inputs-c-and-e).
    // e is what the first output carried: a preemption after it changes nothing, one before it
    // (rare) re-asks the connector, whose pull is spent.
    const askedAgain =
      n === 1 || (leg.num_preemptions > 0 && leg.num_external_computed_tokens === 0);
    expect({
      id: record.id,
      reads: readsOf.get(record.id),
      from: transfer.from,
      to: transfer.to,
      tokens: transfer.tokens,
      // What current vLLM reports: the connector's E, the last token included.
      external: reportedBy(leg, "vllm-pr37460").external_kv_transfer,
      c: leg.num_cached_tokens,
      e: leg.num_external_computed_tokens,
      finish: leg.finish_reason,
    }).toEqual({
      id: record.id,
      reads: 1,
      from: record.legs[0]!.instance,
      to: leg.instance,
      tokens: n - l,
      external: n === 1 ? 0 : n - l,
      c: n - 1,
      e: askedAgain ? 0 : n - l,
      finish: record.finish_reason,
    });
    expect(["stop", "length"]).toContain(leg.finish_reason);
    expectedTokens += n - l;
  }
  expect(sentTokens).toBe(expectedTokens);
}

describe("KV conservation over random P/D clusters", () => {
  it("tokens received by decode instances equal tokens sent by prefill instances, each read moves N − L tokens, and nothing is held once the run drains", () => {
    const reached: Record<
      "decodeLocalHit" | "overlappingReadsOnOneLink" | "decodePreemption",
      boolean
    >[] = [];
    fc.assert(
      fc.property(clusterDraw(fc.constant(null)), (draw) => {
        const scenario = scenarioOf(draw);
        const run = runPd(scenario, draw.seed);
        checkConservation(draw, run, scenario);
        reached.push({
          decodeLocalHit: run.records.some((r) => (decodeLeg(r)?.truth?.local_cache_hit ?? 0) > 0),
          overlappingReadsOnOneLink: overlappingReads(run),
          decodePreemption: sampleOverRole(run.cluster, "decode", "vllm:num_preemptions_total") > 0,
        });
      }),
      propertyParamsWithRuns(150),
    );
    expectReached("P/D conservation generator", reached, 0.1);
  });
});
