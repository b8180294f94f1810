// Over whole scenarios drawn by pdsim's own generators (every topology and connector, tight
// caches, chunked prefills, prompts on block edges, shared prefixes, repeats, bursts, load
// failures under both policies, short leases), every invariant holds for every subject that
// promises it. One pass checks each drawn scenario against the whole catalogue; each invariant's
// test then replays that pass with fast-check if it broke, for a shrunk counterexample with the
// seed and path that reproduce it.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, violationsOf } from "../../src/check/evaluate.ts";
import { INVARIANTS, type Invariant, invariant } from "../../src/check/invariants/index.ts";
import {
  type ScenarioDraw,
  scenarioDocOf,
  scenarioDraw,
} from "../../src/check/scenario-arbitrary.ts";
import { scenarioOfDoc } from "../../src/check/scenario-doc.ts";
import type { WatchedRun } from "../../src/check/watched-run.ts";
import { DEFAULT_PROFILE } from "../../src/accounting/profiles.ts";
import { expectReached, propertyParamsWithRuns, propertyRuns } from "../support/property.ts";

const RUNS = propertyRuns(200);

/** The promised subjects an invariant broke for on one drawn scenario. */
function brokenPromises(draw: ScenarioDraw, only: readonly Invariant[] = INVARIANTS) {
  const scenario = scenarioOfDoc(scenarioDocOf(draw, DEFAULT_PROFILE));
  const verdict = evaluate(scenario, scenario.seed, only);
  return only.flatMap((inv) =>
    inv.promisedBy.flatMap((subject) =>
      violationsOf(verdict, inv.id, subject).map((v) => ({ id: inv.id, ...v })),
    ),
  );
}

type Reached = Record<
  | "pd"
  | "unified"
  | "p2pNccl"
  | "failedLoadUnderFail"
  | "failedLoadUnderRecompute"
  | "leaseExpired"
  | "preemption"
  | "chunkedPrefill"
  | "localHit"
  | "decodeLocalHit"
  | "fullHitCappedBlock"
  | "promptBelowOneBlock"
  | "promptOneOverBlocks"
  | "tierPartialHit"
  | "tierEviction"
  | "tierBeforePd",
  boolean
>;

function reachedBy(run: WatchedRun): Reached {
  const { records, transfers } = run.outputs;
  const scenario = run.scenario;
  const legs = records.flatMap((r) => r.legs);
  const b = scenario.instances[0]!.engine.block_size;
  const pd = scenario.instances.some((i) => i.role !== "unified");
  return {
    pd,
    unified: scenario.instances.some((i) => i.role === "unified"),
    p2pNccl: pd && scenario.kv_transfer.connector === "p2p_nccl",
    failedLoadUnderFail: legs.some((l) => l.role === "decode" && l.finish_reason === "error"),
    failedLoadUnderRecompute: legs.some((l) => (l.recomputed?.failed_load ?? 0) > 0),
    leaseExpired: transfers.some((t) => t.outcome === "lease_expired"),
    preemption: legs.some((l) => l.num_preemptions > 0),
    chunkedPrefill: chunked.has(run),
    localHit: legs.some((l) => (l.truth?.local_cache_hit ?? 0) > 0),
    decodeLocalHit: legs.some((l) => l.role === "decode" && (l.truth?.local_cache_hit ?? 0) > 0),
    fullHitCappedBlock: legs.some((l) => (l.recomputed?.cache_hit_cap ?? 0) > 0),
    promptBelowOneBlock: records.some((r) => r.prompt_tokens < b),
    promptOneOverBlocks: records.some((r) => r.prompt_tokens > b && r.prompt_tokens % b === 1),
    // A tier supplied part of a prompt that was not all there: some computed beyond the last token.
    tierPartialHit:
      run.cluster.tiers.size > 0 &&
      legs.some(
        (l) => (l.truth?.external_kv_transfer ?? 0) > 0 && (l.truth?.local_compute ?? 0) > 1,
      ),
    tierEviction: [...run.cluster.tiers.values()].some((t) => t.totals.evictedTokens > 0),
    tierBeforePd:
      scenario.kv_transfer.connectors?.[0]?.connector === "offloading" ||
      scenario.kv_transfer.connectors?.[0]?.connector === "lmcache",
  };
}

/** Runs in which some step prefilled only part of a prompt. */
const chunked = new WeakSet<WatchedRun>();

function watchChunks(run: WatchedRun): void {
  run.onStep(({ schedulerOutput }) => {
    for (const s of schedulerOutput?.scheduled ?? []) {
      const end = s.numComputedBefore + s.numNewTokens;
      if (s.numComputedBefore < s.request.numPromptTokens && end < s.request.numPromptTokens) {
        chunked.add(run);
      }
    }
  });
}

interface Survey {
  /** Invariant id → the run (0-based) on which a promise first broke. */
  firstBreak: Map<string, number>;
  /** Invariant id → runs that checked it. */
  checked: Map<string, number>;
}

let survey: Survey;

beforeAll(() => {
  const firstBreak = new Map<string, number>();
  const checked = new Map<string, number>();
  const reached: Reached[] = [];
  let index = 0;
  fc.assert(
    fc.property(scenarioDraw(), (draw) => {
      const scenario = scenarioOfDoc(scenarioDocOf(draw, DEFAULT_PROFILE));
      const verdict = evaluate(scenario, scenario.seed, INVARIANTS, watchChunks);
      for (const inv of INVARIANTS) {
        if (verdict.violations.has(inv.id)) checked.set(inv.id, (checked.get(inv.id) ?? 0) + 1);
        const broken = inv.promisedBy.some((s) => violationsOf(verdict, inv.id, s).length > 0);
        if (broken && !firstBreak.has(inv.id)) firstBreak.set(inv.id, index);
      }
      reached.push(reachedBy(verdict.run));
      index += 1;
    }),
    propertyParamsWithRuns(RUNS),
  );
  survey = { firstBreak, checked };
  expectReached("scenario generator", reached, 0.05);
}, 600_000);

/** The invariant holds for every subject that promises it, on every drawn scenario. */
function expectKept(inv: Invariant): void {
  const first = survey.firstBreak.get(inv.id);
  if (first !== undefined) {
    // The same draws again, up to the one that broke: fast-check shrinks it and prints the seed
    // and path that replay it.
    fc.assert(
      fc.property(scenarioDraw(), (draw) => {
        expect(brokenPromises(draw, [inv])).toEqual([]);
      }),
      propertyParamsWithRuns(first + 1),
    );
  }
  expect(survey.checked.get(inv.id)).toBe(RUNS);
}

describe("every promised invariant holds over generated scenarios", () => {
  const promisedBy = (id: string) => invariant(id).promisedBy.join(", ");
  const ids = [
    "sources-sum-to-prompt",
    "sources-non-negative",
    "local-hit-within-cap",
    "cached-is-local-plus-external",
    "decode-computes-one-token",
    "log-throughput-not-inflated",
    "increments-non-negative",
    "counters-never-decrease",
    "external-queries-match-lookups",
    "histograms-count-finished",
    "blocks-conserved",
    "blocks-released-at-drain",
    "one-finish-per-request",
    "link-tokens-conserved",
    "tier-tokens-conserved",
    "clock-monotone",
    "run-completes",
    "same-seed-same-outputs",
  ];
  it("names every invariant of the catalogue once", () => {
    expect([...ids].sort()).toEqual(INVARIANTS.map((i) => i.id).sort());
  });
  it(`sources-sum-to-prompt (${promisedBy("sources-sum-to-prompt")})`, () =>
    expectKept(invariant("sources-sum-to-prompt")));
  it(`sources-non-negative (${promisedBy("sources-non-negative")})`, () =>
    expectKept(invariant("sources-non-negative")));
  it(`local-hit-within-cap (${promisedBy("local-hit-within-cap")})`, () =>
    expectKept(invariant("local-hit-within-cap")));
  it(`cached-is-local-plus-external (${promisedBy("cached-is-local-plus-external")})`, () =>
    expectKept(invariant("cached-is-local-plus-external")));
  it(`decode-computes-one-token (${promisedBy("decode-computes-one-token")})`, () =>
    expectKept(invariant("decode-computes-one-token")));
  it(`log-throughput-not-inflated (${promisedBy("log-throughput-not-inflated")})`, () =>
    expectKept(invariant("log-throughput-not-inflated")));
  it(`increments-non-negative (${promisedBy("increments-non-negative")})`, () =>
    expectKept(invariant("increments-non-negative")));
  it("counters-never-decrease (every profile)", () =>
    expectKept(invariant("counters-never-decrease")));
  it("external-queries-match-lookups (simulator)", () =>
    expectKept(invariant("external-queries-match-lookups")));
  it("histograms-count-finished (every profile)", () =>
    expectKept(invariant("histograms-count-finished")));
  it("blocks-conserved (simulator)", () => expectKept(invariant("blocks-conserved")));
  it("blocks-released-at-drain (simulator)", () =>
    expectKept(invariant("blocks-released-at-drain")));
  it("one-finish-per-request (simulator)", () => expectKept(invariant("one-finish-per-request")));
  it("link-tokens-conserved (simulator)", () => expectKept(invariant("link-tokens-conserved")));
  it("tier-tokens-conserved (simulator)", () => expectKept(invariant("tier-tokens-conserved")));
  it("clock-monotone (simulator)", () => expectKept(invariant("clock-monotone")));
  it("run-completes (simulator)", () => expectKept(invariant("run-completes")));
  it("same-seed-same-outputs (simulator)", () => expectKept(invariant("same-seed-same-outputs")));
});
