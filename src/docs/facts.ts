// Every number, table and picture the guide quotes, computed from the scenarios in scenarios/.
// Each fact has a name the chapters use as `{{name}}`.

import { workloadSource } from "../workload/workload.ts";
import * as fs from "node:fs";
import * as path from "node:path";
import { explainRequest, renderAccounting } from "../explain/explanation.ts";
import type { Explanation } from "../explain/explanation.ts";
import { storyLines } from "../explain/story.ts";
import { PROFILE_NAMES, PROFILES, type ProfileName } from "../accounting/profiles.ts";
import { loadScenario } from "../scenario/index.ts";
import { formatLogLine } from "../output/console-report.ts";
import { Cluster } from "../cluster/cluster.ts";
import { traceSourceOf } from "../workload/trace/trace-file.ts";
import { traceStats } from "../workload/trace/trace-stats.ts";
import { type GuideRun, runGuideScenario, SCENARIOS_DIR, scenarioFile } from "./scenario-runs.ts";
import { stepTimeFacts } from "./step-time-facts.ts";
import { tierFacts } from "./tier-facts.ts";
import { int, markdownTable, pct } from "./template.ts";

const SOURCES = ["local_compute", "local_cache_hit", "external_kv_transfer"] as const;
const ms = (us: number) => (us / 1000).toFixed(3);
const msOfSeconds = (s: number) => (s * 1000).toFixed(3);

class FactSheet {
  readonly facts = new Map<string, string>();

  set(name: string, value: string | number): void {
    if (this.facts.has(name)) throw new Error(`fact '${name}' set twice`);
    this.facts.set(name, String(value));
  }
}

// Several chapters quote the same run: each is simulated once per build.
const explanations = new Map<string, Explanation>();
const runs = new Map<string, GuideRun>();

function scenarioRun(name: string, profile?: ProfileName): GuideRun {
  const key = `${name}:${profile ?? ""}`;
  let found = runs.get(key);
  if (found === undefined) runs.set(key, (found = runGuideScenario(name, profile)));
  return found;
}

function explained(name: string, id: string): Explanation {
  const key = `${name}:${id}`;
  const cached = explanations.get(key);
  if (cached !== undefined) return cached;
  const result = explainUncached(name, id);
  explanations.set(key, result);
  return result;
}

function explainUncached(name: string, id: string): Explanation {
  const scenario = loadScenario(scenarioFile(name));
  const result = explainRequest(scenario, scenario.seed, id, workloadSource);
  if ("missing" in result) throw new Error(`${name}: no request ${id}`);
  return result;
}

/** Chapter 1: one request through 1P1D (pd-basic, r1). */
function oneRequest(f: FactSheet): void {
  const ex = explained("pd-basic", "r1");
  const r = ex.request;
  const [p, d] = r.legs;
  const transfer = ex.events.find((e) => e.kind === "transfer");
  if (p === undefined || d === undefined || transfer?.kind !== "transfer") {
    throw new Error("pd-basic: expected a prefill leg, a decode leg and a transfer");
  }
  const t = transfer.record;
  const run = scenarioRun("pd-basic");
  f.set("pd_basic.n", r.prompt_tokens);
  f.set("pd_basic.max_tokens", r.max_tokens);
  f.set("pd_basic.block_size", run.scenario.instances[0]!.engine.block_size);
  f.set("pd_basic.kv_bytes_per_token", int(run.scenario.model.kv_bytes_per_token));
  f.set(
    "pd_basic.story",
    [`$ npx pdsim explain scenarios/pd-basic.yaml --request r1`, ...storyLines(ex.events)].join(
      "\n",
    ),
  );
  f.set("pd_basic.prefill_done_ms", msOfSeconds(p.first_token_s!));
  f.set("pd_basic.transfer_tokens", t.tokens);
  f.set("pd_basic.transfer_bytes", int(t.bytes));
  f.set("pd_basic.transfer_start_ms", ms(t.startTime));
  f.set("pd_basic.transfer_end_ms", ms(t.endTime));
  f.set("pd_basic.transfer_us", t.endTime - t.startTime);
  f.set("pd_basic.decode_first_token_ms", msOfSeconds(d.first_token_s!));
  f.set("pd_basic.finish_ms", msOfSeconds(r.finish_s));
  f.set("pd_basic.decode_output_tokens", d.num_output_tokens);
  for (const source of SOURCES) f.set(`pd_basic.decode.truth.${source}`, d.truth![source]);
  f.set(
    "pd_basic.held_outcome",
    run.sample("prefill-0", "pdsim:kv_held_requests_total", { outcome: "read" }) === 1
      ? "read"
      : "not read",
  );
  const spans: [string, string, number, number][] = [
    ["prefill-0", "queue and prefill (10 tokens)", 0, p.first_token_s! * 1e6],
    ["link", "KV transfer", t.startTime, t.endTime],
    ["decode-0", "waits for the KV", d.arrival_s * 1e6, t.endTime],
    ["decode-0", "first step: token 9 again", d.first_scheduled_s! * 1e6, d.first_token_s! * 1e6],
    [
      "decode-0",
      `decode (${d.num_output_tokens - 1} more tokens)`,
      d.first_token_s! * 1e6,
      d.last_token_s! * 1e6,
    ],
  ];
  // Mermaid reads `dateFormat x` as milliseconds: our microseconds stand in for them, so the
  // axis's "seconds.milliseconds" read as milliseconds.microseconds of simulated time.
  const gantt = [
    "```mermaid",
    "gantt",
    "  title r1 on pd-basic (axis: simulated ms)",
    "  dateFormat x",
    "  axisFormat %S.%L",
  ];
  for (const section of ["prefill-0", "link", "decode-0"]) {
    gantt.push(`  section ${section}`);
    for (const [s, label, from, to] of spans) {
      if (s === section)
        gantt.push(
          `  ${label} : ${Math.round(from)}, ${Math.max(Math.round(to), Math.round(from) + 1)}`,
        );
    }
  }
  gantt.push("```");
  f.set("pd_basic.gantt", gantt.join("\n"));
  f.set(
    "pd_basic.spans",
    markdownTable(
      ["where", "what", "from (ms)", "to (ms)"],
      spans.map(([s, label, from, to]) => [s, label, ms(from), ms(to)]),
    ),
  );
}

/** Chapter 2: the three sources, the truth, and the work outside them. */
function sources(f: FactSheet): void {
  const ex = explained("pd-basic", "r1");
  for (const a of ex.accounting)
    f.set(`pd_basic.accounting.${a.instance}`, renderAccounting(a).join("\n"));
  const recompute = scenarioRun("pd-load-failure-recompute");
  const computed = recompute.sample("decode-0", "pdsim:prompt_tokens_by_source_total", {
    source: "local_compute",
  });
  f.set("recompute.requests", recompute.records.length);
  f.set(
    "recompute.failed_load_tokens",
    int(
      recompute.sample("decode-0", "pdsim:prompt_tokens_recomputed_total", {
        reason: "failed_load",
      }),
    ),
  );
  f.set("recompute.decode_computed_truth", int(computed));
  f.set(
    "recompute.decode_computed_vllm",
    int(
      recompute.sample("decode-0", "vllm:prompt_tokens_by_source_total", {
        source: "local_compute",
      }),
    ),
  );
  f.set(
    "recompute.decode_external_truth",
    int(
      recompute.sample("decode-0", "pdsim:prompt_tokens_by_source_total", {
        source: "external_kv_transfer",
      }),
    ),
  );
  f.set(
    "recompute.decode_external_vllm",
    int(
      recompute.sample("decode-0", "vllm:prompt_tokens_by_source_total", {
        source: "external_kv_transfer",
      }),
    ),
  );
  const preemption = scenarioRun("preemption");
  f.set(
    "preemption.preemptions",
    int(preemption.sample("unified-0", "vllm:num_preemptions_total")),
  );
  f.set(
    "preemption.recomputed",
    int(
      preemption.sample("unified-0", "pdsim:prompt_tokens_recomputed_total", {
        reason: "preemption",
      }),
    ),
  );
  f.set(
    "preemption.prompt_tokens",
    int(preemption.sample("unified-0", "vllm:prompt_tokens_total")),
  );
  f.set(
    "preemption.queries",
    int(preemption.sample("unified-0", "vllm:prefix_cache_queries_total")),
  );
}

/** Chapter 3: the local prefix cache (prefix-hits, pd-shared-prefix). */
function prefixCache(f: FactSheet): void {
  const run = scenarioRun("prefix-hits");
  const b = run.scenario.instances[0]!.engine.block_size;
  f.set("prefix_hits.block_size", b);
  const rows = run.records
    .slice()
    .sort((x, y) => x.arrival_s - y.arrival_s)
    .map((r) => {
      const leg = r.legs[0]!;
      const t = leg.truth!;
      const n = r.prompt_tokens;
      return [
        r.id,
        n,
        Math.floor((n - 1) / b) * b,
        t.local_cache_hit,
        t.local_compute,
        leg.recomputed!.cache_hit_cap,
      ];
    });
  f.set(
    "prefix_hits.table",
    markdownTable(
      [
        "request",
        "N",
        "cap ⌊(N−1)/B⌋·B",
        "local hit L",
        "computed",
        "of which a cached block recomputed",
      ],
      rows,
    ),
  );
  f.set("prefix_hits.queries", run.sample("unified-0", "vllm:prefix_cache_queries_total"));
  f.set("prefix_hits.hits", run.sample("unified-0", "vllm:prefix_cache_hits_total"));
  f.set(
    "prefix_hits.computed",
    run.sample("unified-0", "pdsim:prompt_tokens_by_source_total", { source: "local_compute" }),
  );
  for (const id of ["r2", "r3", "r5"]) {
    f.set(`prefix_hits.${id}.hit`, run.record(id).legs[0]!.truth!.local_cache_hit);
    f.set(`prefix_hits.${id}.computed`, run.record(id).legs[0]!.truth!.local_compute);
  }
  const shared = scenarioRun("pd-shared-prefix");
  f.set("shared.decode_queries", int(shared.sample("decode-0", "vllm:prefix_cache_queries_total")));
  f.set("shared.decode_hits", int(shared.sample("decode-0", "vllm:prefix_cache_hits_total")));
  f.set("shared.transferred", int(shared.sample("decode-0", "pdsim:kv_transfer_tokens_total")));
  const prompts = shared.records.reduce((sum, r) => sum + r.prompt_tokens, 0);
  f.set("shared.prompt_tokens", int(prompts));
}

/** Chapter 4: what each vLLM version reported. */
function versions(f: FactSheet): void {
  f.set(
    "profiles.table",
    markdownTable(
      ["profile", "vLLM", "what it counts"],
      PROFILE_NAMES.map((p) => [`\`${p}\``, PROFILES[p].pullRequest, PROFILES[p].summary]),
    ),
  );
  // The decode instance's log line at t = 10 s, before and after the seed PR.
  const logLine = (profile: ProfileName) => {
    const line = scenarioRun("pd-basic", profile).logLines.find((l) => l.instance === "decode-0");
    if (line === undefined) throw new Error("pd-basic: decode-0 logged nothing");
    return formatLogLine(line);
  };
  const decode = explained("pd-basic", "r1").request.legs.find((l) => l.instance === "decode-0")!;
  const split = (profile: ProfileName) => {
    const r = decode.reported![profile];
    if ("prompt_throughput_tokens" in r) throw new Error(`${profile} has no split`);
    return r;
  };
  for (const profile of ["vllm-pr33290", "vllm-pr37460"] as const) {
    const r = split(profile);
    f.set(
      `pd_basic.decode.${profile}.sum`,
      r.local_compute + r.local_cache_hit + r.external_kv_transfer,
    );
    for (const source of SOURCES) f.set(`pd_basic.decode.${profile}.${source}`, r[source]);
    if (r.recomputed !== undefined) f.set(`pd_basic.decode.${profile}.recomputed`, r.recomputed);
  }
  const interval = scenarioRun("pd-basic").scenario.instances[1]!.engine.log_stats_interval_s;
  f.set("log.interval_s", interval);
  f.set("log.truth_throughput", (decode.truth!.local_compute / interval).toFixed(1));
  f.set("log.pre33290", logLine("vllm-pre33290"));
  f.set("log.pr37460", logLine("vllm-pr37460"));
  const catalogue = fs.readFileSync(
    path.resolve(import.meta.dirname, "../../docs/INVARIANTS.md"),
    "utf8",
  );
  const known = catalogue.slice(catalogue.indexOf("\n## Known breaks\n"));
  const rows = known
    .split("\n")
    .filter((l) => l.startsWith("| vllm-"))
    .map((l) =>
      l
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    )
    .map(([profile, id, from, smallest]) => [profile!, id!, from!, smallest!]);
  f.set(
    "known_breaks.table",
    markdownTable(["profile", "invariant", "drawn from", "smallest counterexample found"], rows),
  );
  const failRun = scenarioRun("pd-load-failure-fail", "vllm-pr33290");
  f.set("fail.requests_failed", failRun.records.filter((r) => r.finish_reason === "error").length);
  f.set("fail.exporter_errors", failRun.sample("decode-0", "pdsim:exporter_errors_total"));
}

/** Chapter 5: reading a dashboard (pd-2p4d-round-robin, prefix-hits). */
function dashboards(f: FactSheet): void {
  const run = scenarioRun("pd-2p4d-round-robin");
  const truth = run.sampleOver("decode", "pdsim:prompt_tokens_by_source_total", {
    source: "local_compute",
  });
  const vllm = run.sampleOver("decode", "vllm:prompt_tokens_by_source_total", {
    source: "local_compute",
  });
  const decodeRequests = run.sampleOver("decode", "vllm:request_success_total");
  f.set("dash.requests", run.records.length);
  f.set("dash.decode_computed_truth", int(truth));
  f.set("dash.decode_computed_vllm", int(vllm));
  f.set("dash.decode_requests", int(decodeRequests));
  f.set(
    "dash.decode_external",
    int(
      run.sampleOver("decode", "pdsim:prompt_tokens_by_source_total", {
        source: "external_kv_transfer",
      }),
    ),
  );
  const extHits = run.sampleOver("decode", "vllm:external_prefix_cache_hits_total");
  const extQueries = run.sampleOver("decode", "vllm:external_prefix_cache_queries_total");
  f.set("dash.decode_external_hit_rate", pct(extHits / extQueries));
  const hits = run.sampleOver("prefill", "vllm:prefix_cache_hits_total");
  const queries = run.sampleOver("prefill", "vllm:prefix_cache_queries_total");
  f.set("dash.prefill_hit_rate", pct(hits / queries));
  const line = run.logLines.find(
    (l) => l.instance === "prefill-0" && l.message.includes("Prefix cache hit rate"),
  );
  f.set("dash.prefill_log_line", line === undefined ? "(none)" : formatLogLine(line));
  for (const source of SOURCES) {
    f.set(
      `dash.prefill_${source}`,
      int(run.sampleOver("prefill", "pdsim:prompt_tokens_by_source_total", { source })),
    );
  }
}

/** The cache sizes chapter 6 replays the first 1,000 Mooncake requests with, in blocks. */
const CACHE_SIZES = [8193, 65536, 262144, 524288, 1048576];

/** Chapter 6: replaying real traffic (the Mooncake traces; mooncake-cache-sizes, mooncake-1p1d, mooncake-2p2d-cache-aware). */
function realTraffic(f: FactSheet): void {
  const trace = (file: string) =>
    traceSourceOf("mooncake", file, path.join(SCENARIOS_DIR, "traces", file));
  const whole = traceStats(trace("mooncake-conversation.jsonl"), 16);
  f.set("traffic.requests", int(whole.requests));
  f.set("traffic.duration_s", Math.round(whole.duration_s));
  f.set("traffic.mean_input", int(Math.round(whole.mean_input_tokens)));
  f.set("traffic.mean_output", int(Math.round(whole.mean_output_tokens)));
  f.set("traffic.p99_input", int(whole.input_tokens.p99));
  f.set("traffic.max_input", int(whole.input_tokens.max));
  f.set("traffic.total_input", int(whole.total_input_tokens));
  f.set("traffic.ideal", pct(whole.ideal_prefix_hit_ratio));
  const first = traceStats(trace("mooncake-conversation-first-1000.jsonl"), 16);
  f.set("traffic.first.ideal", pct(first.ideal_prefix_hit_ratio));
  f.set("traffic.first.duration_s", Math.round(first.duration_s));

  // The same sequential replay at each cache size: one scenario, its cache resized.
  const base = loadScenario(scenarioFile("mooncake-cache-sizes"));
  const rows = CACHE_SIZES.map((blocks) => {
    const scenario = structuredClone(base);
    for (const instance of scenario.instances) instance.engine.num_gpu_blocks = blocks;
    const cluster = new Cluster(scenario, scenario.seed);
    cluster.run();
    const exposition = cluster.instances[0]!.statLoggers.prometheus;
    const hits = exposition.sampleValue("vllm:prefix_cache_hits_total") ?? 0;
    const queries = exposition.sampleValue("vllm:prefix_cache_queries_total") ?? 0;
    const tokens = blocks * scenario.instances[0]!.engine.block_size;
    return [int(blocks), `${(tokens / 1e6).toFixed(2)} M`, pct(hits / queries)];
  });
  f.set(
    "traffic.cache_table",
    markdownTable(["num_gpu_blocks", "tokens it holds", "prefix cache hit rate"], rows),
  );
  f.set("traffic.smallest_hit", rows[0]![2]!);
  f.set("traffic.largest_hit", rows.at(-1)![2]!);

  const pd = scenarioRun("mooncake-1p1d");
  const bySource = (instance: string, source: string) =>
    pd.sample(instance, "pdsim:prompt_tokens_by_source_total", { source });
  f.set("traffic.pd.requests", int(pd.records.length));
  f.set("traffic.pd.prompt", int(pd.sample("prefill-0", "vllm:prefix_cache_queries_total")));
  for (const instance of ["prefill-0", "decode-0"]) {
    for (const source of SOURCES) {
      f.set(`traffic.pd.${instance}.${source}`, int(bySource(instance, source)));
    }
  }
  f.set(
    "traffic.pd.prefill_hit",
    pct(
      pd.sample("prefill-0", "vllm:prefix_cache_hits_total") /
        pd.sample("prefill-0", "vllm:prefix_cache_queries_total"),
    ),
  );
  f.set(
    "traffic.pd.decode_vllm_compute",
    int(pd.sample("decode-0", "vllm:prompt_tokens_by_source_total", { source: "local_compute" })),
  );
  const two = scenarioRun("mooncake-2p2d-cache-aware");
  const twoHits = two.sampleOver("prefill", "vllm:prefix_cache_hits_total");
  const twoQueries = two.sampleOver("prefill", "vllm:prefix_cache_queries_total");
  f.set("traffic.2p2d.prefill_hit", pct(twoHits / twoQueries));
  f.set("traffic.2p2d.prefill0_requests", two.sample("prefill-0", "vllm:request_success_total"));
  f.set("traffic.2p2d.prefill1_requests", two.sample("prefill-1", "vllm:request_success_total"));
}

export function guideFacts(): Map<string, string> {
  const sheet = new FactSheet();
  oneRequest(sheet);
  sources(sheet);
  prefixCache(sheet);
  versions(sheet);
  dashboards(sheet);
  realTraffic(sheet);
  stepTimeFacts((name, value) => sheet.set(name, value));
  tierFacts((name, value) => sheet.set(name, value));
  return sheet.facts;
}
