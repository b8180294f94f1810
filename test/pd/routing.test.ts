// The proxy's routing policies on the two legs of a P/D request, seen from where each leg ran and
// from what crossed the links.
import { describe, expect, it } from "vitest";
import type { RoutingPolicy } from "../../src/scenario/index.ts";
import {
  type ExplicitRequest,
  type PdRun,
  STEP_TIME,
  expectEveryRequestFinishedOnce,
  expectNothingHeld,
  runPd,
  sampleOverRole,
  scenarioFrom,
} from "./helpers.ts";

const POLICIES: readonly RoutingPolicy[] = ["round_robin", "least_loaded", "prefix_aware"];

function twoPTwoD(prefill: RoutingPolicy, decode: RoutingPolicy, requests: ExplicitRequest[]) {
  return scenarioFrom({
    seed: 1,
    model: { step_time: STEP_TIME },
    engine: { block_size: 16, num_gpu_blocks: 256, max_model_len: 1024, log_stats_interval_s: 1 },
    instances: [
      { name: "p0", role: "prefill" },
      { name: "p1", role: "prefill" },
      { name: "d0", role: "decode" },
      { name: "d1", role: "decode" },
    ],
    kv_transfer: { connector: "nixl" },
    proxy: { prefill_policy: prefill, decode_policy: decode },
    workload: { requests },
  });
}

/** Request id → [prefill instance, decode instance], in arrival order. */
function routes(run: PdRun): [string, string, string][] {
  return [...run.records]
    .sort((a, b) => a.arrival_s - b.arrival_s)
    .map((r) => [r.id, r.legs[0]!.instance, r.legs[1]!.instance]);
}

describe("routing the prefill and the decode leg", () => {
  const everyPair = POLICIES.flatMap((p) => POLICIES.map((d) => [p, d] as const));

  it.each(everyPair)(
    "prefill_policy %s with decode_policy %s serves every request on a prefill then a decode instance",
    (prefill, decode) => {
      const requests = Array.from({ length: 8 }, (_, i) => ({
        id: `r${i}`,
        at_s: i * 0.003,
        prompt_tokens: 40 + 10 * i,
        prefix: { group: `g${i % 2}`, tokens: 32 },
        max_tokens: 3 + i,
      }));
      const scenario = twoPTwoD(prefill, decode, requests);
      const run = runPd(scenario);
      expectEveryRequestFinishedOnce(run, scenario, scenario.seed);
      for (const [id, p, d] of routes(run)) {
        expect({ id, p: p.startsWith("p"), d: d.startsWith("d") }).toEqual({
          id,
          p: true,
          d: true,
        });
      }
      expectNothingHeld(run.cluster);
    },
  );

  it("round_robin sends each leg to the next instance of its role in turn", () => {
    const requests = [0, 1, 2, 3].map((i) => ({
      id: `r${i}`,
      at_s: i,
      prompt_from: i === 0 ? undefined : "r0",
      prompt_tokens: i === 0 ? 100 : undefined,
      max_tokens: 4,
    }));
    const run = runPd(twoPTwoD("round_robin", "round_robin", requests));
    expect(routes(run)).toEqual([
      ["r0", "p0", "d0"],
      ["r1", "p1", "d1"],
      ["r2", "p0", "d0"],
      ["r3", "p1", "d1"],
    ]);
  });

  it("least_loaded sends the decode leg to the decode instance with the fewest running + waiting", () => {
    // r0 decodes for about a second on d0; r1 is done long before r2 arrives, so round_robin
    // would put r2 on busy d0, and least_loaded puts it on idle d1.
    const requests = [
      { id: "r0", at_s: 0, prompt_tokens: 50, max_tokens: 250 },
      { id: "r1", at_s: 0.1, prompt_tokens: 50, max_tokens: 2 },
      { id: "r2", at_s: 0.5, prompt_tokens: 50, max_tokens: 2 },
    ];
    expect(routes(runPd(twoPTwoD("least_loaded", "least_loaded", requests)))).toEqual([
      ["r0", "p0", "d0"],
      ["r1", "p0", "d1"],
      ["r2", "p0", "d1"],
    ]);
    expect(routes(runPd(twoPTwoD("round_robin", "round_robin", requests)))).toEqual([
      ["r0", "p0", "d0"],
      ["r1", "p1", "d1"],
      ["r2", "p0", "d0"],
    ]);
  });

  /**
   * Two prefixes, A and B. r1 (B) arrives while r0 (A) keeps d0 busy, so it goes to d1; by the
   * time r2 (B) and r3 (A) arrive every instance is idle, so only the prefix cache tells them
   * apart: load alone would send both to the first instance.
   */
  const twoPrefixes = [
    { id: "r0", at_s: 0, group: "A", max_tokens: 100 },
    { id: "r1", at_s: 0.001, group: "B", max_tokens: 4 },
    { id: "r2", at_s: 2, group: "B", max_tokens: 4 },
    { id: "r3", at_s: 3, group: "A", max_tokens: 4 },
  ].map(({ group, ...r }) => ({ ...r, prompt_tokens: 200, prefix: { group, tokens: 160 } }));

  it("prefix_aware on the decode leg sends a repeated prefix to the decode instance that holds it, so fewer tokens cross the links than under round_robin", () => {
    const aware = runPd(twoPTwoD("round_robin", "prefix_aware", twoPrefixes));
    const rr = runPd(twoPTwoD("round_robin", "round_robin", twoPrefixes));
    expect(routes(aware).map(([id, , d]) => [id, d])).toEqual([
      ["r0", "d0"],
      ["r1", "d1"],
      ["r2", "d1"],
      ["r3", "d0"],
    ]);
    expect(routes(rr).map(([id, , d]) => [id, d])).toEqual([
      ["r0", "d0"],
      ["r1", "d1"],
      ["r2", "d0"],
      ["r3", "d1"],
    ]);
    // A decode instance holding the 160-token prefix pulls only the 40 tokens after it.
    expect(aware.transfers.map((t) => [t.requestId, t.tokens])).toEqual([
      ["r0", 200],
      ["r1", 200],
      ["r2", 40],
      ["r3", 40],
    ]);
    const moved = (run: PdRun) =>
      sampleOverRole(run.cluster, "decode", "pdsim:kv_transfer_tokens_total");
    expect({ aware: moved(aware), roundRobin: moved(rr) }).toEqual({ aware: 480, roundRobin: 800 });
  });

  it("prefix_aware on the prefill leg sends a repeated prefix to the prefill instance that holds it", () => {
    const run = runPd(twoPTwoD("prefix_aware", "round_robin", twoPrefixes));
    expect(routes(run).map(([id, p]) => [id, p])).toEqual([
      ["r0", "p0"],
      ["r1", "p1"],
      ["r2", "p1"],
      ["r3", "p0"],
    ]);
    const cached = new Map(run.records.map((r) => [r.id, r.legs[0]!.num_cached_tokens]));
    expect(["r0", "r1", "r2", "r3"].map((id) => cached.get(id))).toEqual([0, 0, 160, 160]);
  });
});
