// Over random whole runs (unified, P/D and mixed clusters; nixl and p2p_nccl; shared prefixes and
// repeated prompts; preemption pressure; load failures under both policies): the ground truth of
// every leg, the pdsim: counters built from it, and where each vLLM version's report departs from
// it — exactly where docs/vllm-reference.md#what-the-versions-get-wrong says it does, and
// nowhere else.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { InstanceLeg } from "../../src/cluster/request-record.ts";
import type { PromptTokenInputs } from "../../src/engine/stats.ts";
import type { PrefillSources } from "../../src/accounting/ledger.ts";
import { RECOMPUTE_REASONS } from "../../src/accounting/ledger.ts";
import { PROFILE_NAMES, type ProfileName } from "../../src/accounting/profiles.ts";
import type { PrometheusStatLogger } from "../../src/metrics/prometheus-stat-logger.ts";
import { PROMPT_SOURCES } from "../../src/accounting/prompt-source-counters.ts";
import type { Scenario } from "../../src/scenario/index.ts";
import { reportedBy } from "../cluster/helpers.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import {
  type AccountingRun,
  accountingDraw,
  accountingScenario,
  runAccounting,
} from "./generators.ts";

const NOTHING: PrefillSources = { local_compute: 0, local_cache_hit: 0, external_kv_transfer: 0 };

interface LegOf {
  /** The request id and the instance, for messages. */
  id: string;
  leg: InstanceLeg;
  /** What the leg's first output carried: the c and e every older version read. */
  inputs: PromptTokenInputs;
  n: number;
  blockSize: number;
  connector: Scenario["kv_transfer"]["connector"];
}

function legsOf(run: AccountingRun, scenario: Scenario): LegOf[] {
  const blockSize = new Map(scenario.instances.map((i) => [i.name, i.engine.block_size]));
  return run.records.flatMap((record) =>
    record.legs.map((leg) => ({
      id: `${record.id}@${leg.instance}`,
      leg,
      inputs: run.firstOutputs.get(`${leg.instance}/${record.id}`)!,
      n: record.prompt_tokens,
      blockSize: blockSize.get(leg.instance)!,
      connector: scenario.kv_transfer.connector,
    })),
  );
}

/** The three sources a version reported, or for the oldest version the log line's count. */
function differsFromTruth(leg: InstanceLeg, profile: ProfileName): boolean {
  const truth = leg.truth ?? NOTHING;
  if (profile === "vllm-pre33290") {
    const r = leg.reported![profile];
    if (!("prompt_throughput_tokens" in r)) throw new Error("vllm-pre33290 has a source split");
    return r.prompt_throughput_tokens !== truth.local_compute;
  }
  const r = reportedBy(leg, profile);
  return PROMPT_SOURCES.some((source) => r[source] !== truth[source]);
}

/**
 * Where section 4 says each version goes wrong, from the leg's c, e and N and what really
 * happened (the truth), never from the reported numbers themselves.
 */
function expectedToDiffer(
  t: PrefillSources | null,
  inputs: PromptTokenInputs,
): Record<ProfileName, boolean> {
  const n = inputs.numPromptTokens;
  const c = inputs.numCachedTokens;
  const e = inputs.numExternalComputedTokens;
  // A `fail` output: c = −1 (and e = 0, no PrefillStats); nothing was prefilled here.
  const failed = t === null;
  // c is written once, when the request first becomes RUNNING, and never reset: after a
  // preemption before the first token it no longer describes the prefill that produced it.
  const staleCached = !failed && c !== t.local_cache_hit + t.external_kv_transfer;
  // e is the connector's last answer, not what was used: an async load's last token is
  // overwritten, a failed load's invalid blocks are recomputed.
  const staleExternal = !failed && e !== t.external_kv_transfer;
  // v1 and v2 guess that c = N − 1 means a recomputed token, and count it on top of N.
  const recomputedGuess = c === n - 1;
  const v3 = failed || staleCached || staleExternal;
  return {
    // The log line counts all N prompt tokens: wrong whenever any KV was not computed here.
    "vllm-pre33290": failed || t.local_cache_hit + t.external_kv_transfer > 0,
    "vllm-pr33290": recomputedGuess || v3,
    "vllm-pr37160": recomputedGuess || v3,
    "vllm-pr38709": v3,
    // The scheduler's own (L, E) of the last waiting pass: L is right, E is the connector's
    // answer (the same e); a `fail` output adds nothing, as nothing was prefilled.
    "vllm-pr37460": staleExternal,
  };
}

type Reached = Record<
  | "fullHitWithNMultipleOfB"
  | "localLastTokenAlone"
  | "p2pDecodeLeg"
  | "failedLoadUnderFail"
  | "failedLoadUnderRecompute"
  | "preemptionBeforeFirstToken"
  | "preemptionAfterFirstToken",
  boolean
> & {
  /** Rarer by nature: the re-admission usually hits what the first admission hit. */
  cachedTokensStaleAfterPreemption: boolean;
};

function checkRun(scenario: Scenario, run: AccountingRun): Reached {
  const legs = legsOf(run, scenario);
  const reached: Reached = {
    fullHitWithNMultipleOfB: false,
    localLastTokenAlone: false,
    p2pDecodeLeg: false,
    failedLoadUnderFail: false,
    failedLoadUnderRecompute: false,
    preemptionBeforeFirstToken: run.preemptions.some((p) => p.beforeFirstToken),
    preemptionAfterFirstToken: run.preemptions.some((p) => !p.beforeFirstToken),
    cachedTokensStaleAfterPreemption: false,
  };
  for (const { id, leg, inputs, n, blockSize, connector } of legs) {
    const t = leg.truth;
    // c is written once and never reset, so the leg shows the c its first output carried.
    expect({ id, c: leg.num_cached_tokens }).toEqual({ id, c: inputs.numCachedTokens });
    // Truth: N for every leg that produced a token, each source ≥ 0, the hit capped at N − 1.
    if (leg.num_output_tokens > 0) {
      expect(t, id).not.toBeNull();
      const maxHit = Math.floor((n - 1) / blockSize) * blockSize;
      expect({
        sum: t!.local_compute + t!.local_cache_hit + t!.external_kv_transfer,
        nonNegative: PROMPT_SOURCES.every((s) => t![s] >= 0),
        hitWithinCap: t!.local_cache_hit <= maxHit,
      }).toEqual({ sum: n, nonNegative: true, hitWithinCap: true });
    } else {
      expect({ id, finish: leg.finish_reason, truth: t }).toEqual({
        id,
        finish: "error",
        truth: null,
      });
    }
    // Current vLLM sums to N; a `fail` output carries no PrefillStats and adds nothing.
    const current = reportedBy(leg, "vllm-pr37460");
    expect(current.local_compute + current.local_cache_hit + current.external_kv_transfer).toBe(
      t === null ? 0 : n,
    );
    // Each version departs from the truth exactly where its formula says
    // (docs/vllm-reference.md#the-five-profiles).
    const want = expectedToDiffer(t, inputs);
    for (const profile of PROFILE_NAMES) {
      expect({ id, profile, leg, differs: differsFromTruth(leg, profile) }).toEqual({
        id,
        profile,
        leg,
        differs: want[profile],
      });
    }
    if (t !== null && inputs.numCachedTokens !== t.local_cache_hit + t.external_kv_transfer) {
      reached.cachedTokensStaleAfterPreemption = true;
    }

    const recomputed = leg.recomputed!;
    if (leg.role === "decode" && t !== null && recomputed.failed_load === 0) {
      const l = t.local_cache_hit;
      const c = inputs.numCachedTokens;
      const e = inputs.numExternalComputedTokens;
      if (connector === "nixl") {
        // A NIXL decode: all N − L tokens arrive (c = N − 1, e = N − L), and the model needs the
        // last one as input again. A 1-token prompt is asked again after its load (e = 0).
        expect({ id, truth: t, lastToken: recomputed.last_token, c, e }).toEqual({
          id,
          truth: { local_compute: 1, local_cache_hit: l, external_kv_transfer: n - l - 1 },
          lastToken: 1,
          c: n - 1,
          e: n === 1 ? 0 : n - l,
        });
      } else {
        // P2P: the connector leaves the last token out (e = N − 1 − L), nothing is overwritten.
        expect({ id, truth: t, lastToken: recomputed.last_token, c, e }).toEqual({
          id,
          truth: { local_compute: 1, local_cache_hit: l, external_kv_transfer: n - l - 1 },
          lastToken: 0,
          c: n - 1,
          e: n - 1 - l,
        });
        reached.p2pDecodeLeg = true;
      }
    }
    if (recomputed.cache_hit_cap > 0) {
      expect({ id, n, cap: recomputed.cache_hit_cap }).toEqual({
        id,
        n: Math.ceil(n / blockSize) * blockSize,
        cap: blockSize,
      });
      reached.fullHitWithNMultipleOfB = true;
    }
    if (leg.role !== "decode" && leg.num_cached_tokens === n - 1 && n > 1) {
      reached.localLastTokenAlone = true;
    }
    if (t === null) reached.failedLoadUnderFail = true;
    if (recomputed.failed_load > 0) reached.failedLoadUnderRecompute = true;
  }

  // The truth families of every exposition are the sums of the legs' truth and recomputed.
  for (const instance of run.cluster.instances) {
    const mine = legs.filter((l) => l.leg.instance === instance.name).map((l) => l.leg);
    const truthSum = (source: (typeof PROMPT_SOURCES)[number]) =>
      mine.reduce((sum, leg) => sum + (leg.truth?.[source] ?? 0), 0);
    const recomputedSum = (reason: (typeof RECOMPUTE_REASONS)[number]) =>
      mine.reduce((sum, leg) => sum + (leg.recomputed?.[reason] ?? 0), 0);
    for (const exposition of instance.expositions) {
      const where = `${instance.name} under ${exposition.profile.name}`;
      for (const source of PROMPT_SOURCES) {
        expect({
          where,
          source,
          value: exposition.sampleValue("pdsim:prompt_tokens_by_source_total", { source }),
        }).toEqual({ where, source, value: truthSum(source) });
      }
      for (const reason of RECOMPUTE_REASONS) {
        expect({
          where,
          reason,
          value: exposition.sampleValue("pdsim:prompt_tokens_recomputed_total", { reason }),
        }).toEqual({ where, reason, value: recomputedSum(reason) });
      }
      expectVllmFamiliesSumTheLegs(run, exposition, instance.name, mine);
    }
  }
  return reached;
}

/**
 * A profile's vllm: prompt-source counters are its legs' reported values summed, less the
 * increments its exporter refused (a step whose sum was negative).
 */
function expectVllmFamiliesSumTheLegs(
  run: AccountingRun,
  exposition: PrometheusStatLogger,
  instance: string,
  legs: InstanceLeg[],
): void {
  const profile = exposition.profile.name as ProfileName;
  const where = `${instance} under ${profile}`;
  if (profile === "vllm-pre33290") {
    expect({ where, family: exposition.sampleValue("vllm:prompt_tokens_by_source_total") }).toEqual(
      { where, family: undefined },
    );
    return;
  }
  const refused = (metric: string) =>
    run.exporterErrors
      .filter((e) => e.instance === instance && e.profile === profile && e.metric === metric)
      .reduce((sum, e) => sum + e.amount, 0);
  type Split = ReturnType<typeof reportedBy>;
  const series: {
    metric: string;
    name: string;
    labels: Record<string, string>;
    pick: (r: Split) => number;
  }[] = [
    ...PROMPT_SOURCES.map((source) => ({
      metric: `vllm:prompt_tokens_by_source_total{source="${source}"}`,
      name: "vllm:prompt_tokens_by_source_total",
      labels: { source },
      pick: (r: Split) => r[source],
    })),
    {
      metric: "vllm:prompt_tokens_cached_total",
      name: "vllm:prompt_tokens_cached_total",
      labels: {},
      pick: (r) => r.cached,
    },
  ];
  if (profile === "vllm-pr33290" || profile === "vllm-pr37160") {
    series.push({
      metric: "vllm:prompt_tokens_recomputed_total",
      name: "vllm:prompt_tokens_recomputed_total",
      labels: {},
      pick: (r) => r.recomputed!,
    });
  }
  for (const { metric, name, labels, pick } of series) {
    const reported = legs.reduce((sum, leg) => sum + pick(reportedBy(leg, profile)), 0);
    expect({ where, metric, value: exposition.sampleValue(name, labels) }).toEqual({
      where,
      metric,
      value: reported - refused(metric),
    });
  }
}

describe("prompt-token accounting over random whole runs", () => {
  it("truth sums to N with every source ≥ 0 and the hit within the N − 1 cap, the pdsim: counters sum the legs, current vLLM sums to N, and each older version differs from the truth exactly where its formula says", () => {
    const reached: Reached[] = [];
    fc.assert(
      fc.property(accountingDraw, (draw) => {
        const scenario = accountingScenario(draw);
        const run = runAccounting(scenario, draw.cluster.seed);
        reached.push(checkRun(scenario, run));
      }),
      propertyParamsWithRuns(150),
    );
    expectReached(
      "accounting generator",
      reached.map(({ cachedTokensStaleAfterPreemption: _, ...common }) => common),
      0.05,
    );
    expectReached(
      "accounting generator, rarer situations",
      reached.map((r) => ({
        cachedTokensStaleAfterPreemption: r.cachedTokensStaleAfterPreemption,
      })),
      0.01,
    );
  });
});
