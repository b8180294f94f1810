// Where a version's formula makes a step's PromptTokenStats sum negative, vLLM's Prometheus client
// raised "Counters can only be incremented by non-negative amounts" in the output handler; pdsim
// skips that increment, counts it in pdsim:exporter_errors_total, reports it on stderr and in
// summary.json, and carries on. vLLM sums a step's requests first, so a negative contribution that
// the step's other requests outweigh is no error.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { InstanceExporterError } from "../../src/cluster/instance.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import type { PromptTokenInputs } from "../../src/engine/stats.ts";
import { PROFILE_NAMES, PROFILES, type ProfileName } from "../../src/accounting/profiles.ts";
import { PrometheusStatLogger } from "../../src/metrics/prometheus-stat-logger.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { REPO, pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";
import { firstOutput, iterationStats } from "../metrics/stats-builders.ts";

const MESSAGE = "Counters can only be incremented by non-negative amounts";
const LOCAL = 'vllm:prompt_tokens_by_source_total{source="local_cache_hit"}';
const CACHED = "vllm:prompt_tokens_cached_total";

/** What a `fail` output carries: c = −1, e = 0, no PrefillStats. */
function failOutput(requestId: string, n = 100): PromptTokenInputs {
  return {
    requestId,
    numPromptTokens: n,
    numCachedTokens: -1,
    numExternalComputedTokens: 0,
    prefillStats: null,
  };
}

function logger(profile: ProfileName): PrometheusStatLogger {
  return new PrometheusStatLogger({
    modelName: "m",
    engineIndex: 0,
    maxModelLen: 4096,
    maxNumBatchedTokens: 2048,
    profile: PROFILES[profile],
  });
}

const errorsOf = (l: PrometheusStatLogger, metric: string) =>
  l.sampleValue("pdsim:exporter_errors_total", { metric }) ?? 0;

describe("a step whose prompt-token sum is negative", () => {
  it("under vllm-pr33290, a fail output alone skips the local_cache_hit and cached increments, counts each in pdsim:exporter_errors_total, and still moves the other counters", () => {
    const l = logger("vllm-pr33290");
    l.record(null, iterationStats({ firstOutputs: [firstOutput(50, { local: 16 })] }));
    l.record(null, iterationStats({ firstOutputs: [failOutput("bad")] }));
    expect(l.takeExporterErrors()).toEqual([
      { metric: LOCAL, amount: -1, requestIds: ["bad"] },
      { metric: CACHED, amount: -1, requestIds: ["bad"] },
    ]);
    expect(l.takeExporterErrors()).toEqual([]);
    const source = (s: string) =>
      l.sampleValue("vllm:prompt_tokens_by_source_total", { source: s });
    expect({
      errorsLocal: errorsOf(l, LOCAL),
      errorsCached: errorsOf(l, CACHED),
      // Unchanged by the refused step: the first request's 16 only.
      local: source("local_cache_hit"),
      cached: l.sampleValue(CACHED),
      // v1's computed N − c = 101 for the failed request, on top of the first request's 34.
      computed: source("local_compute"),
      total: l.sampleValue("vllm:prompt_tokens_total"),
    }).toEqual({
      errorsLocal: 1,
      errorsCached: 1,
      local: 16,
      cached: 16,
      computed: 34 + 101,
      total: 150,
    });
  });

  it("is no error when the step's other requests outweigh a negative contribution, as vLLM sums the step first", () => {
    const l = logger("vllm-pr33290");
    l.record(
      null,
      iterationStats({ firstOutputs: [failOutput("bad"), firstOutput(50, { local: 16 })] }),
    );
    expect(l.takeExporterErrors()).toEqual([]);
    expect({
      errorsLocal: errorsOf(l, LOCAL),
      errorsCached: errorsOf(l, CACHED),
      local: l.sampleValue("vllm:prompt_tokens_by_source_total", { source: "local_cache_hit" }),
      cached: l.sampleValue(CACHED),
    }).toEqual({ errorsLocal: 0, errorsCached: 0, local: 16 - 1, cached: 16 - 1 });
  });

  it.each([
    ["vllm-pre33290", []],
    ["vllm-pr33290", [LOCAL, CACHED]],
    ["vllm-pr37160", [CACHED]],
    ["vllm-pr38709", [CACHED]],
    ["vllm-pr37460", []],
  ] as const)(
    "under %s, a fail output alone is refused on %j (v2 and v3 clamp local, not cached; current vLLM counts nothing)",
    (profile, metrics) => {
      const l = logger(profile);
      l.record(null, iterationStats({ firstOutputs: [failOutput("bad")] }));
      expect(l.takeExporterErrors().map((e) => e.metric)).toEqual(metrics);
    },
  );
});

describe("load failures under fail with vllm-pr33290, over a whole run", () => {
  it("refuses exactly the steps of the requests whose decode leg failed, and every other profile's refusals are its formula's", () => {
    const scenario = loadScenario(path.join(REPO, "scenarios/pd-load-failure-fail.yaml"));
    const errors: InstanceExporterError[] = [];
    const records: RequestRecord[] = [];
    new Cluster(
      scenario,
      scenario.seed,
      {
        onExporterError: (e) => errors.push(e),
        onRequestFinished: (r) => records.push(r),
      },
      ["vllm-pr33290" as const, ...PROFILE_NAMES.filter((p) => p !== "vllm-pr33290")].map(
        (p) => PROFILES[p],
      ),
    ).run();
    const failed = records.filter((r) => r.finish_reason === "error").map((r) => r.id);
    expect(failed.length).toBeGreaterThan(0);
    const refused = (profile: ProfileName, metric: string) =>
      errors
        .filter((e) => e.profile === profile && e.metric === metric)
        .flatMap((e) => {
          expect({ instance: e.instance, amount: e.amount }).toEqual({
            instance: "decode-0",
            amount: -e.requestIds.length,
          });
          return e.requestIds;
        })
        .sort();
    expect(refused("vllm-pr33290", LOCAL)).toEqual([...failed].sort());
    expect(refused("vllm-pr33290", CACHED)).toEqual([...failed].sort());
    expect(refused("vllm-pr37160", CACHED)).toEqual([...failed].sort());
    expect(refused("vllm-pr38709", CACHED)).toEqual([...failed].sort());
    expect(
      errors.filter((e) => e.profile === "vllm-pr37460" || e.profile === "vllm-pre33290"),
    ).toEqual([]);
  });
});

describe("pdsim run with exporter errors", () => {
  let dir = "";
  let scenario = "";
  const lines = (expectLine: string) => [
    "name: fail-errors",
    "engine: { block_size: 16, num_gpu_blocks: 256, max_model_len: 1024 }",
    "instances:",
    "  - { name: prefill-0, role: prefill }",
    "  - { name: decode-0, role: decode }",
    "kv_transfer:",
    "  connector: nixl",
    "  load_failure_policy: fail",
    "  faults: { load_failure_probability: 1 }",
    "workload:",
    "  requests:",
    "    - { id: r1, at_s: 0, prompt_tokens: 40, max_tokens: 4 }",
    "    - { id: r2, at_s: 1, prompt_tokens: 70, max_tokens: 4 }",
    "expect:",
    expectLine,
  ];
  beforeAll(() => {
    dir = scratchDir();
    scenario = writeScenario(dir, "fail-errors.yaml", [
      ...lines(
        `  - { instance: decode-0, metric: 'vllm:request_success_total{finished_reason="error"}', equals: 2 }`,
      ),
    ]);
  });
  afterAll(() => removeDir(dir));

  it("under vllm-pr33290 exits 0, prints vLLM's message on stderr, and names the requests in summary.json and the exposition", async () => {
    const out = path.join(dir, "out");
    const result = await pdsim(
      "run",
      scenario,
      "--profile",
      "vllm-pr33290",
      "--quiet",
      "--out",
      out,
    );
    expect(result.status).toBe(0);
    const stderrErrors = result.stderr.split("\n").filter((l) => l.includes(MESSAGE));
    expect(stderrErrors).toHaveLength(4);
    for (const id of ["r1", "r2"]) {
      for (const metric of [LOCAL, CACHED]) {
        expect(
          stderrErrors.filter((l) => l.includes(`${metric} += -1; requests ${id})`)),
        ).toHaveLength(1);
      }
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as {
      exporter_errors: {
        instance: string;
        profile: string;
        metric: string;
        amount: number;
        request_ids: string[];
      }[];
    };
    expect(
      summary.exporter_errors.map(({ instance, profile, metric, amount, request_ids }) => ({
        instance,
        profile,
        metric,
        amount,
        request_ids,
      })),
    ).toEqual(
      ["r1", "r2"].flatMap((id) =>
        [LOCAL, CACHED].map((metric) => ({
          instance: "decode-0",
          profile: "vllm-pr33290",
          metric,
          amount: -1,
          request_ids: [id],
        })),
      ),
    );
    const prom = fs.readFileSync(path.join(out, "metrics", "decode-0.prom"), "utf8");
    const escaped = (metric: string) => metric.replaceAll('"', '\\"');
    expect(prom).toContain(
      `pdsim:exporter_errors_total{model_name="Qwen/Qwen3-0.6B",engine="0",metric="${escaped(LOCAL)}"} 2\n`,
    );
    expect(prom).toContain(
      `pdsim:exporter_errors_total{model_name="Qwen/Qwen3-0.6B",engine="0",metric="${escaped(CACHED)}"} 2\n`,
    );
  });

  it("exits 1 only when an expectation fails, not for the exporter errors", async () => {
    const failing = writeScenario(dir, "fail-errors-expect.yaml", [
      ...lines(
        `  - { instance: decode-0, metric: 'vllm:request_success_total{finished_reason="error"}', equals: 0 }`,
      ),
    ]);
    const result = await pdsim("run", failing, "--profile", "vllm-pr33290", "--quiet");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(MESSAGE);
  });
});
