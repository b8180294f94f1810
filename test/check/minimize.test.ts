// A counterexample is only as readable as it is small: greedy minimisation and the tiny-scenario
// sweep must end on the smallest document that still breaks, never on one that does not. Both
// take the "still breaks" test as a plain predicate, so most of these tests need no simulation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { invariant } from "../../src/check/invariants/index.ts";
import { minimize } from "../../src/check/minimize.ts";
import { scenarioDocArbitrary } from "../../src/check/scenario-arbitrary.ts";
import {
  type RequestEntry,
  type ScenarioDoc,
  describeScenario,
  scenarioOfDoc,
} from "../../src/check/scenario-doc.ts";
import { findBreak, violationsOn } from "../../src/check/search.ts";
import { smallestTiny } from "../../src/check/tiny-scenarios.ts";
import { ScenarioError } from "../../src/scenario/index.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

interface InstanceEntry {
  name: string;
  role: string;
  engine?: Record<string, unknown>;
}

const requestsOf = (doc: ScenarioDoc) =>
  (doc.workload as { requests: RequestEntry[] } | undefined)?.requests ?? [];
const instancesOf = (doc: ScenarioDoc) => (doc.instances ?? []) as InstanceEntry[];
const rolesOf = (doc: ScenarioDoc) => instancesOf(doc).map((i) => i.role);

/** A prompt's length, following `prompt_from` back to the prompt it repeats. */
function lengthOf(doc: ScenarioDoc, entry: RequestEntry): number {
  if (entry.prompt_tokens !== undefined) return entry.prompt_tokens;
  const source = requestsOf(doc).find((r) => r.id === entry.prompt_from);
  return source === undefined ? 0 : lengthOf(doc, source);
}

const faultsOf = (doc: ScenarioDoc) =>
  (doc.kv_transfer as { faults?: { load_failure_probability: number } } | undefined)?.faults;

/** `pdsim check` counts a document the loader refuses as not breaking; so do these predicates. */
function loads(doc: ScenarioDoc): boolean {
  try {
    scenarioOfDoc(doc);
    return true;
  } catch (error) {
    if (error instanceof ScenarioError) return false;
    throw error;
  }
}

/** Like `breaksOn`: a document breaks when it loads and `holds` for it. */
const breaksWhen =
  (holds: (doc: ScenarioDoc) => boolean) =>
  (doc: ScenarioDoc): boolean =>
    loads(doc) && holds(doc);

const pd = (prefills: number, decodes: number): InstanceEntry[] => [
  ...Array.from({ length: prefills }, (_, i) => ({ name: `prefill-${i}`, role: "prefill" })),
  ...Array.from({ length: decodes }, (_, i) => ({ name: `decode-${i}`, role: "decode" })),
];

/** Five requests on a 1P2D cluster with faults, an engine, a proxy and every request key used. */
function bigDoc(): ScenarioDoc {
  return {
    name: "big",
    seed: 3,
    model: { name: "m" },
    engine: {
      block_size: 4,
      num_gpu_blocks: 64,
      max_model_len: 128,
      max_num_batched_tokens: 16,
      long_prefill_token_threshold: 8,
    },
    instances: [{ name: "prefill-0", role: "prefill", engine: { max_num_seqs: 4 } }, ...pd(0, 2)],
    kv_transfer: {
      connector: "p2p_nccl",
      load_failure_policy: "recompute",
      faults: { load_failure_probability: 0.5 },
      lease_s: 0.002,
    },
    proxy: { decode_policy: "round_robin" },
    workload: {
      requests: [
        { id: "r1", at_s: 0, prompt_tokens: 40, prefix: { group: "a", tokens: 8 }, max_tokens: 4 },
        { id: "r2", at_s: 0.1, prompt_from: "r1", max_tokens: 3, output_tokens: 2 },
        { id: "r3", at_s: 0.2, prompt_tokens: 100, max_tokens: 5 },
        { id: "r4", at_s: 0.3, prompt_tokens: 12, max_tokens: 2, output_tokens: 1 },
        { id: "r5", at_s: 0.4, prompt_from: "r2", max_tokens: 1 },
      ],
    },
    metrics: { profile: "vllm-pr33290" },
  };
}

describe("minimize", () => {
  it("drops every request and instance the break does not need, and simplifies the rest", () => {
    const breaks = breaksWhen((doc) => requestsOf(doc).some((r) => r.id === "r3"));
    expect(minimize(bigDoc(), breaks)).toEqual({
      name: "big",
      seed: 3,
      model: { name: "m" },
      engine: { block_size: 4, max_model_len: 128 },
      instances: [{ name: "unified-0", role: "unified" }],
      workload: { requests: [{ id: "r3", at_s: 0, prompt_tokens: 1, max_tokens: 1 }] },
      metrics: { profile: "vllm-pr33290" },
    });
  });

  it("shrinks a prompt to the shortest length that still breaks", () => {
    const breaks = breaksWhen((doc) => requestsOf(doc).some((r) => lengthOf(doc, r) >= 7));
    const smallest = minimize(bigDoc(), breaks);
    // Which request survives depends on the order of the edits; its shape does not.
    const shapes = requestsOf(smallest).map(({ id: _id, ...shape }) => shape);
    expect(shapes).toEqual([{ at_s: 0, prompt_tokens: 7, max_tokens: 1 }]);
  });

  it("gives a repeat of a dropped request that request's length, with tokens of its own", () => {
    const doc: ScenarioDoc = {
      instances: [{ name: "unified-0", role: "unified" }],
      workload: {
        requests: [
          {
            id: "r1",
            at_s: 0,
            prompt_tokens: 12,
            prefix: { group: "a", tokens: 8 },
            max_tokens: 1,
          },
          { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 1 },
        ],
      },
    };
    const seen: ScenarioDoc[] = [];
    const breaks = (candidate: ScenarioDoc) => {
      seen.push(candidate);
      return (
        loads(candidate) &&
        requestsOf(candidate).some((r) => r.id === "r2" && lengthOf(candidate, r) === 12)
      );
    };
    const smallest = minimize(doc, breaks);
    expect(requestsOf(smallest)).toEqual([{ id: "r2", at_s: 0, prompt_tokens: 12, max_tokens: 1 }]);
    // No candidate repeats a request it lacks: the loader would refuse it.
    for (const candidate of seen) {
      const ids = requestsOf(candidate).map((r) => r.id);
      for (const r of requestsOf(candidate)) {
        if (r.prompt_from !== undefined) expect(ids).toContain(r.prompt_from);
      }
    }
  });

  it("halves a long workload first, so that it gets small in few tries", () => {
    const requests = Array.from({ length: 64 }, (_, i) => ({
      id: `r${i}`,
      at_s: 0,
      prompt_tokens: 4,
      max_tokens: 1,
    }));
    const doc = { instances: [{ name: "unified-0", role: "unified" }], workload: { requests } };
    const breaks = breaksWhen((d) => requestsOf(d).some((r) => r.id === "r50"));
    const smallest = minimize(doc, breaks, { budget: 40 });
    expect(requestsOf(smallest).map((r) => r.id)).toEqual(["r50"]);
  });

  it("with keepRoles keeps one instance of every role and never makes a P/D cluster unified", () => {
    const doc: ScenarioDoc = {
      ...bigDoc(),
      instances: [{ name: "unified-0", role: "unified" }, ...pd(2, 3)],
    };
    const seen: ScenarioDoc[] = [];
    const breaks = (candidate: ScenarioDoc) => {
      seen.push(candidate);
      return loads(candidate);
    };
    const smallest = minimize(doc, breaks, { keepRoles: true });
    expect([...rolesOf(smallest)].sort()).toEqual(["decode", "prefill", "unified"]);
    expect(seen.length).toBeGreaterThan(0);
    for (const candidate of seen) {
      const roles = rolesOf(candidate);
      expect(roles.filter((r) => r === "prefill").length).toBeGreaterThanOrEqual(1);
      expect(roles.filter((r) => r === "decode").length).toBeGreaterThanOrEqual(1);
      expect(roles.filter((r) => r === "unified")).toHaveLength(1);
    }
  });

  it("with keepRoles keeps a P/D pair and its connector settings", () => {
    const doc: ScenarioDoc = { ...bigDoc(), instances: pd(2, 2) };
    const smallest = minimize(doc, loads, { keepRoles: true });
    expect(rolesOf(smallest)).toEqual(["prefill", "decode"]);
    expect(smallest.kv_transfer).toBeDefined();
  });

  it("never empties the cluster: a predicate blind to instances still gets the requests shrunk", () => {
    // Only the requests matter to this predicate; dropping the last instance would loop forever
    // between no instance and one unified instance, spending the budget on nothing.
    const breaks = (d: ScenarioDoc) => requestsOf(d).length >= 1;
    const result = minimize(bigDoc(), breaks, { budget: 200 });
    expect((result.instances as unknown[]).length).toBe(1);
    expect(requestsOf(result)).toEqual([
      { id: expect.any(String), at_s: 0, prompt_tokens: 1, max_tokens: 1 },
    ]);
  });

  it("tries no more candidates than its budget", () => {
    for (const budget of [0, 1, 5, 17]) {
      let calls = 0;
      const always = () => {
        calls += 1;
        return true;
      };
      minimize(bigDoc(), always, { budget });
      // A predicate that accepts everything reaches the smallest document early with a big budget.
      expect(calls, `budget ${budget}`).toBeLessThanOrEqual(budget);
      calls = 0;
      const never = () => {
        calls += 1;
        return false;
      };
      const doc = bigDoc();
      expect(minimize(doc, never, { budget })).toBe(doc);
      expect({ budget, calls }).toEqual({ budget, calls: budget });
    }
  });

  it("never returns a document its predicate rejects, and keeps roles when asked", () => {
    const predicate = fc.record({
      minRequests: fc.integer({ min: 1, max: 4 }),
      minTokens: fc.integer({ min: 1, max: 80 }),
      pd: fc.boolean(),
      faults: fc.boolean(),
    });
    fc.assert(
      fc.property(
        scenarioDocArbitrary("vllm-pr37460"),
        predicate,
        fc.boolean(),
        (doc, want, keepRoles) => {
          let calls = 0;
          // Cheap stand-ins for the loader's and the invariant's verdicts.
          const breaks = (d: ScenarioDoc) => {
            calls += 1;
            return (
              instancesOf(d).length > 0 &&
              requestsOf(d).length >= want.minRequests &&
              requestsOf(d).reduce((sum, r) => sum + lengthOf(d, r), 0) >= want.minTokens &&
              (!want.pd || rolesOf(d).includes("prefill")) &&
              (!want.faults || faultsOf(d) !== undefined)
            );
          };
          fc.pre(breaks(doc));
          calls = 0;
          const smallest = minimize(doc, breaks, { keepRoles });
          expect(breaks(smallest)).toBe(true);
          expect(calls - 1).toBeLessThanOrEqual(400);
          expect(requestsOf(smallest).length).toBeLessThanOrEqual(requestsOf(doc).length);
          expect(instancesOf(smallest).length).toBeLessThanOrEqual(instancesOf(doc).length);
          if (keepRoles) {
            expect(new Set(rolesOf(smallest))).toEqual(new Set(rolesOf(doc)));
          }
        },
      ),
      propertyParamsWithRuns(100),
    );
  });
});

/** Bigger than every tiny scenario: three requests on a 2P2D cluster. */
function threeRequests(): ScenarioDoc {
  return {
    name: "three",
    seed: 9,
    model: { name: "m", step_time: { base_ms: 1 } },
    engine: { block_size: 8, num_gpu_blocks: 40, max_model_len: 256 },
    instances: pd(2, 2),
    kv_transfer: { connector: "p2p_nccl", link: { latency_ms: 1, bandwidth_gb_per_s: 10 } },
    proxy: { pd_min_prompt_tokens: 24, prefill_policy: "round_robin" },
    workload: {
      requests: [
        { id: "a", at_s: 0, prompt_tokens: 50, max_tokens: 8 },
        { id: "b", at_s: 1, prompt_from: "a", max_tokens: 8 },
        { id: "c", at_s: 2, prompt_tokens: 30, max_tokens: 8 },
      ],
    },
    metrics: { profile: "vllm-pr33290" },
  };
}

const firstLength = (doc: ScenarioDoc) => requestsOf(doc)[0]?.prompt_tokens ?? 0;
const isPd = (doc: ScenarioDoc) => rolesOf(doc).some((r) => r !== "unified");

describe("smallestTiny", () => {
  it("returns the shortest single request on one unified instance when that breaks", () => {
    const tiny = smallestTiny(threeRequests(), (d) => firstLength(d) >= 5);
    expect(tiny.instances).toEqual([{ name: "unified-0", role: "unified" }]);
    expect(tiny.workload).toEqual({
      requests: [{ id: "r1", at_s: 0, prompt_tokens: 5, max_tokens: 1 }],
    });
    expect(tiny).not.toHaveProperty("kv_transfer");
    expect(tiny).not.toHaveProperty("proxy");
  });

  it("prefers fewer requests to fewer instances", () => {
    const breaks = (d: ScenarioDoc) => requestsOf(d).length === 2 || isPd(d);
    const tiny = smallestTiny(threeRequests(), breaks);
    expect(rolesOf(tiny)).toEqual(["prefill", "decode"]);
    expect(requestsOf(tiny)).toHaveLength(1);
  });

  it("prefers fewer instances to fewer tokens", () => {
    const breaks = (d: ScenarioDoc) => isPd(d) || firstLength(d) >= 30;
    const tiny = smallestTiny(threeRequests(), breaks);
    expect(rolesOf(tiny)).toEqual(["unified"]);
    expect(firstLength(tiny)).toBe(30);
  });

  it("prefers no fault to fewer tokens", () => {
    const breaks = (d: ScenarioDoc) =>
      isPd(d) && (faultsOf(d) !== undefined || firstLength(d) >= 10);
    const tiny = smallestTiny(threeRequests(), breaks);
    expect(faultsOf(tiny)).toBeUndefined();
    expect(firstLength(tiny)).toBe(10);
  });

  it("tries a failed load under fail before recompute, as a P/D pair of its own", () => {
    const tiny = smallestTiny(threeRequests(), (d) => faultsOf(d) !== undefined);
    expect(tiny.instances).toEqual([
      { name: "prefill-0", role: "prefill" },
      { name: "decode-0", role: "decode" },
    ]);
    expect(tiny.kv_transfer).toEqual({
      connector: "p2p_nccl",
      link: { latency_ms: 1, bandwidth_gb_per_s: 10 },
      load_failure_policy: "fail",
      faults: { load_failure_probability: 1 },
    });
    // Without unified instances pd_min_prompt_tokens routes nothing; the rest of the proxy stays.
    expect(tiny.proxy).toEqual({ prefill_policy: "round_robin" });
    expect(firstLength(tiny)).toBe(1);
  });

  it("makes the second of two requests repeat the first once it has finished", () => {
    const tiny = smallestTiny(threeRequests(), (d) => requestsOf(d).length === 2);
    expect(requestsOf(tiny)).toEqual([
      { id: "r1", at_s: 0, prompt_tokens: 1, max_tokens: 1 },
      { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 1 },
    ]);
  });

  it("keeps the document's engine, model, seed and metrics settings", () => {
    const doc = threeRequests();
    const tiny = smallestTiny(doc, () => true);
    for (const key of ["name", "seed", "model", "engine", "metrics"]) {
      expect(tiny[key]).toEqual(doc[key]);
    }
    expect(loads(tiny)).toBe(true);
  });

  it("with keepRoles uses the document's own first instance of each role", () => {
    const doc: ScenarioDoc = {
      ...threeRequests(),
      instances: [
        { name: "d-x", role: "decode" },
        { name: "p-a", role: "prefill", engine: { max_num_seqs: 4 } },
        { name: "p-b", role: "prefill" },
        { name: "d-y", role: "decode" },
      ],
    };
    const seen: ScenarioDoc[] = [];
    const tiny = smallestTiny(
      doc,
      (d) => {
        seen.push(d);
        return firstLength(d) >= 3;
      },
      { keepRoles: true },
    );
    for (const candidate of seen) {
      expect(instancesOf(candidate).map(({ name, role }) => ({ name, role }))).toEqual([
        { name: "p-a", role: "prefill" },
        { name: "d-x", role: "decode" },
      ]);
    }
    expect(firstLength(tiny)).toBe(3);
    expect(faultsOf(tiny)).toBeUndefined();
  });

  it("returns the document itself when no smaller tiny scenario breaks", () => {
    const doc: ScenarioDoc = {
      instances: [{ name: "unified-0", role: "unified" }],
      workload: { requests: [{ id: "only", at_s: 2, prompt_tokens: 6, max_tokens: 9 }] },
    };
    // Same size as the document: not smaller, so not taken, even though it breaks.
    expect(smallestTiny(doc, (d) => firstLength(d) >= 6)).toBe(doc);
    expect(smallestTiny(doc, (d) => firstLength(d) >= 4)).toEqual({
      instances: [{ name: "unified-0", role: "unified" }],
      workload: { requests: [{ id: "r1", at_s: 0, prompt_tokens: 4, max_tokens: 1 }] },
    });
    expect(smallestTiny(threeRequests(), () => false)).toEqual(threeRequests());
  });

  it("tries prompts up to maxTokens only", () => {
    const doc = threeRequests();
    const breaks = (d: ScenarioDoc) => requestsOf(d).length < 3 && firstLength(d) >= 41;
    expect(smallestTiny(doc, breaks)).toBe(doc);
    expect(firstLength(smallestTiny(doc, breaks, { maxTokens: 50 }))).toBe(41);
  });

  it("leaves a generated workload alone", () => {
    const doc: ScenarioDoc = {
      instances: [{ name: "unified-0", role: "unified" }],
      workload: {
        num_requests: 3,
        arrival: { process: "poisson", rate_per_s: 1 },
        prompt_tokens: { dist: "constant", value: 8 },
        max_tokens: { dist: "constant", value: 1 },
      },
    };
    expect(smallestTiny(doc, () => true)).toBe(doc);
  });
});

describe("findBreak end to end", () => {
  it("ends vllm-pr33290's broken source sum on one 1-token request on one instance", () => {
    const inv = invariant("sources-sum-to-prompt");
    const { seed } = propertyParamsWithRuns(100);
    const found = findBreak(scenarioDocArbitrary("vllm-pr33290"), inv, "vllm-pr33290", {
      seed: seed!,
      numRuns: 100,
    });
    expect(found).not.toBeNull();
    const doc = found!.doc;
    expect(describeScenario(scenarioOfDoc(doc))).toBe("unified, B=4: 1 request (N=1)");
    expect(violationsOn(doc, inv, "vllm-pr33290")).not.toEqual([]);
    expect(found!.violation.subject).toBe("vllm-pr33290");
  });
});
