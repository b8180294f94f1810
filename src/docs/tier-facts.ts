// Chapter 8's facts: the three places a prompt token's KV can come from besides computing it
// (the GPU's own prefix cache, an external tier, a prefill instance), shown on the scenarios of
// scenarios/ that use kv_cache_tiers, and the same traffic with tiers of growing size.

import { workloadSource } from "../workload/workload.ts";
import { Cluster } from "../cluster/cluster.ts";
import { explainRequest, renderAccounting } from "../explain/explanation.ts";
import { storyLines } from "../explain/story.ts";
import { loadScenario } from "../scenario/index.ts";
import type { Scenario } from "../scenario/types.ts";
import { runGuideScenario, scenarioFile } from "./scenario-runs.ts";
import { int, markdownTable, pct } from "./template.ts";

type SetFact = (name: string, value: string | number) => void;

/** The CPU tier's sizes the table tries, in tokens; 0 runs without a connector. */
const TIER_TOKENS = [0, 16_384, 32_768, 65_536, 131_072];

export function tierFacts(set: SetFact): void {
  growingTier(set);
  partialHit(set);
  coldWarm(set);
  preempted(set);
}

/** cpu-offload's traffic with no tier, then with tiers of growing size. */
function growingTier(set: SetFact): void {
  const base = loadScenario(scenarioFile("cpu-offload"));
  const engine = base.instances[0]!.engine;
  set("tiers.gpu_tokens", int((engine.num_gpu_blocks - 1) * engine.block_size));
  set("tiers.chunk", base.kv_cache_tiers[0]!.chunk_tokens);
  const rows = TIER_TOKENS.map((tokens) => {
    const scenario: Scenario = structuredClone(base);
    if (tokens === 0) {
      scenario.kv_transfer.connector = "none";
      delete scenario.kv_transfer.tier;
      scenario.kv_cache_tiers = [];
    } else {
      scenario.kv_cache_tiers[0]!.capacity_tokens = tokens;
    }
    const cluster = new Cluster(scenario, scenario.seed);
    cluster.run();
    const e = cluster.instances[0]!.statLoggers.prometheus;
    const truth = (source: string) =>
      e.sampleValue("pdsim:prompt_tokens_by_source_total", { source }) ?? 0;
    const prompt = e.sampleValue("vllm:prompt_tokens_total") ?? 0;
    const loadedGb =
      (e.sampleValue("vllm:kv_offload_total_bytes_total", { transfer_type: "CPU_to_GPU" }) ?? 0) /
      1e9;
    const computed = truth("local_compute");
    return {
      computed,
      prompt,
      row: [
        tokens === 0 ? "no tier" : int(tokens),
        `${int(computed)} (${pct(computed / prompt)})`,
        int(truth("local_cache_hit")),
        int(truth("external_kv_transfer")),
        tokens === 0 ? "–" : loadedGb.toFixed(1),
      ],
    };
  });
  set("tiers.prompt_tokens", int(rows[0]!.prompt));
  set(
    "tiers.table",
    markdownTable(
      [
        "CPU tier (tokens)",
        "local_compute",
        "local_cache_hit",
        "external_kv_transfer",
        "GB loaded",
      ],
      rows.map((r) => r.row),
    ),
  );
  set("tiers.computed_without", pct(rows[0]!.computed / rows[0]!.prompt));
  set("tiers.computed_largest", pct(rows.at(-1)!.computed / rows.at(-1)!.prompt));
}

/** partial-external-hit's last request: 600 local, 200 from the shared cache, 200 computed. */
function partialHit(set: SetFact): void {
  const scenario = loadScenario(scenarioFile("partial-external-hit"));
  const result = explainRequest(scenario, scenario.seed, "doc-1000", workloadSource);
  if ("missing" in result) throw new Error("partial-external-hit: no request doc-1000");
  set(
    "tiers.partial.story",
    [
      "$ npx pdsim explain scenarios/partial-external-hit.yaml --request doc-1000",
      ...storyLines(result.events),
      "",
      ...renderAccounting(result.accounting[0]!),
    ].join("\n"),
  );
  const run = runGuideScenario("partial-external-hit");
  set(
    "tiers.partial.queries",
    int(run.sample("unified-0", "vllm:external_prefix_cache_queries_total")),
  );
}

/** shared-cache-cold-warm: the same prompt on two instances that share a cache service. */
function coldWarm(set: SetFact): void {
  const run = runGuideScenario("shared-cache-cold-warm");
  const source = (instance: string, s: string) =>
    int(run.sample(instance, "vllm:prompt_tokens_by_source_total", { source: s }));
  set("tiers.cold.computed", source("unified-0", "local_compute"));
  set("tiers.warm.computed", source("unified-1", "local_compute"));
  set("tiers.warm.external", source("unified-1", "external_kv_transfer"));
}

/** preempted-connector-grows: c, e and what v1 made of them. */
function preempted(set: SetFact): void {
  const run = runGuideScenario("preempted-connector-grows");
  const leg = run.record("long-17050").legs[0]!;
  set("tiers.preempted.n", int(run.record("long-17050").prompt_tokens));
  set("tiers.preempted.c", int(leg.num_cached_tokens));
  set("tiers.preempted.e", int(leg.num_external_computed_tokens));
  const v1 = leg.reported?.["vllm-pr33290"];
  if (v1 === undefined || "prompt_throughput_tokens" in v1) throw new Error("no v1 split");
  set("tiers.preempted.v1_local", int(v1.local_cache_hit));
  const t = leg.truth!;
  set("tiers.preempted.truth_external", int(t.external_kv_transfer));
  set("tiers.preempted.truth_computed", int(t.local_compute));
}
