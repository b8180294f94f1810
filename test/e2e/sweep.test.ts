import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { stringify as toYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { listFiles, pdsim, removeDir, REPO, scratchDir, writeScenario } from "./cli.ts";
import { loadSweep } from "../../src/sweep/sweep-file.ts";
import { percentile } from "../../src/sweep/run-one.ts";
import { expectParquetEqualsCsv } from "../support/duckdb.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

type Row = Record<string, string>;
const readRows = (out: string): Row[] =>
  parseCsv(fs.readFileSync(path.join(out, "runs.csv"), "utf8"), { columns: true }) as Row[];

/** A 2P4D scenario, varied in its decode policy and cache size. */
const sweepFile = writeScenario(dir, "small.yaml", [
  `scenario: ${path.join(REPO, "scenarios/pd-2p4d-round-robin.yaml")}`,
  "grid:",
  "  proxy.decode_policy: [round_robin, prefix_aware]",
  "  engine.num_gpu_blocks: [1024, 4096]",
  "seeds: [1]",
  "collect:",
  "  summary: [requests.finished, simulated_seconds, instances.decode-0.prefix_cache_hits]",
  "  metrics:",
  '    - { metric: "vllm:prompt_tokens_total", role: decode }',
  "    - { name: p0_computed, metric: 'pdsim:prompt_tokens_by_source_total{source=\"local_compute\"}', instance: prefill-0 }",
  "  latency: [ttft_p50, ttft_p99, e2e_mean, tpot_p90]",
  "  truth_vs_reported: true",
  "objective: { column: ttft_p99, goal: min }",
]);

describe("pdsim sweep", () => {
  const out = path.join(dir, "out");

  it("runs every variant with every seed, and each row equals what pdsim run reports", async () => {
    const result = await pdsim("sweep", sweepFile, "--out", out, "--workers", "1");
    expect(result.stderr).toContain("4 runs: 0 already done, 4 run now, 0 failed, 0 not run");
    expect(result.status).toBe(0);
    const rows = readRows(out);
    expect(rows.map((r) => [r["proxy.decode_policy"], r["engine.num_gpu_blocks"], r.seed])).toEqual(
      [
        ["round_robin", "1024", "1"],
        ["round_robin", "4096", "1"],
        ["prefix_aware", "1024", "1"],
        ["prefix_aware", "4096", "1"],
      ],
    );
    // The same run through pdsim run: the variant's scenario written out, and its outputs read.
    const sweep = loadSweep(sweepFile, "test");
    for (const index of [0, 3]) {
      const spec = sweep.runs[index]!;
      const row = rows[index]!;
      const variant = path.join(REPO, "scenarios", `.sweep-test-${index}.yaml`);
      fs.writeFileSync(variant, toYaml(spec.scenario));
      const runOut = path.join(dir, `run-${index}`);
      try {
        const run = await pdsim(
          "run",
          variant,
          "--seed",
          String(spec.seed),
          "--out",
          runOut,
          "--quiet",
        );
        expect(run.status).toBe(0);
      } finally {
        fs.rmSync(variant);
      }
      const summary = JSON.parse(fs.readFileSync(path.join(runOut, "summary.json"), "utf8"));
      expect(Number(row["requests.finished"])).toBe(summary.requests.finished);
      expect(Number(row.simulated_seconds)).toBe(summary.simulated_seconds);
      const decode0 = summary.instances.find((i: { name: string }) => i.name === "decode-0");
      expect(Number(row["instances.decode-0.prefix_cache_hits"])).toBe(decode0.prefix_cache_hits);
      const sample = (instance: string, line: RegExp) => {
        const text = fs.readFileSync(path.join(runOut, "metrics", `${instance}.prom`), "utf8");
        return Number(
          text
            .split("\n")
            .find((l) => line.test(l))!
            .split(" ")
            .at(-1),
        );
      };
      // Summed over the role's four instances.
      expect(Number(row["vllm:prompt_tokens_total@decode"])).toBe(
        [0, 1, 2, 3]
          .map((d) => sample(`decode-${d}`, /^vllm:prompt_tokens_total\{/))
          .reduce((a, b) => a + b, 0),
      );
      expect(Number(row.p0_computed)).toBe(
        sample("prefill-0", /^pdsim:prompt_tokens_by_source_total\{.*source="local_compute"/),
      );
      const records = fs
        .readFileSync(path.join(runOut, "requests.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const ms = (x: number) => Math.round(x * 1e6) / 1e6;
      const ttft = records.map((r) => (r.first_token_s - r.arrival_s) * 1000);
      expect(Number(row.ttft_p50)).toBe(ms(percentile(ttft, 50)));
      expect(Number(row.ttft_p99)).toBe(ms(percentile(ttft, 99)));
      const e2e = records.map((r) => (r.finish_s - r.arrival_s) * 1000);
      expect(Number(row.e2e_mean)).toBe(ms(e2e.reduce((a, b) => a + b, 0) / e2e.length));
      // Truth against the current version's report, from every leg's record.
      let drift = 0;
      for (const r of records) {
        for (const leg of r.legs) {
          if (leg.truth === null) continue;
          drift += leg.reported["vllm-pr37460"].local_compute - leg.truth.local_compute;
        }
      }
      expect(Number(row["drift_local_compute.vllm-pr37460"])).toBe(drift);
    }
    // The variants differ: a larger cache on decode keeps more prefix hits.
    expect(
      new Set(rows.map((r) => r["instances.decode-0.prefix_cache_hits"])).size,
    ).toBeGreaterThan(1);
    const info = JSON.parse(fs.readFileSync(path.join(out, "sweep.json"), "utf8"));
    expect(info).toMatchObject({ sweep: { name: "small" }, counts: { runs: 4, ok: 4, failed: 0 } });
  });

  it("writes runs.parquet, which DuckDB reads back equal to runs.csv", async () => {
    await expectParquetEqualsCsv(path.join(out, "runs.parquet"), path.join(out, "runs.csv"));
  });

  it("writes report.html: a chart per column and key, and the configurations by the objective", () => {
    const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
    const info = JSON.parse(fs.readFileSync(path.join(out, "sweep.json"), "utf8"));
    expect(info.keys).toHaveLength(2);
    expect(html.match(/<canvas /g)).toHaveLength(info.keys.length * info.columns.length);
    const body = /<table id="best">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    const best = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
      [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!),
    );
    // One seed: each configuration's mean is its one run's ttft_p99, lowest first.
    const byTtft = readRows(out)
      .map((r) => [r["proxy.decode_policy"], r["engine.num_gpu_blocks"], Number(r.ttft_p99)])
      .sort((a, b) => (a[2] as number) - (b[2] as number));
    expect(best.map((r) => [r[1], r[2], Number(r[3])])).toEqual(
      byTtft.map(([p, b, t]) => [p, b, Number((t as number).toPrecision(6))]),
    );
    expect(best.map((r) => r.slice(4))).toEqual(Array(4).fill(["–", "1 of 1"]));
  });

  it("skips the runs already in --out, and gives the same table on a pool of worker threads", async () => {
    const again = await pdsim("sweep", sweepFile, "--out", out);
    expect(again.stderr).toContain("4 runs: 4 already done, 0 run now");
    const pooled = path.join(dir, "pooled");
    const result = await pdsim("sweep", sweepFile, "--out", pooled, "--workers", "2");
    expect(result.status).toBe(0);
    const strip = (rows: Row[]) => rows.map(({ wall_s: _, ...rest }) => rest);
    expect(strip(readRows(pooled))).toEqual(strip(readRows(out)));
    // The same results draw the same page; only the sweep's times differ.
    const report = (d: string) =>
      fs.readFileSync(path.join(d, "report.html"), "utf8").replace(/, from \S+ to \S+\./, "");
    expect(report(pooled)).toBe(report(out));
  });

  it("runs again a run whose result file is damaged", async () => {
    const damaged = path.join(dir, "damaged");
    fs.cpSync(out, damaged, { recursive: true });
    const first = fs.readdirSync(path.join(damaged, "runs"))[0]!;
    fs.writeFileSync(path.join(damaged, "runs", first), '{"key": "trunc');
    const result = await pdsim("sweep", sweepFile, "--out", damaged, "--workers", "1");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("4 runs: 3 already done, 1 run now");
  });

  it("finishes an interrupted sweep with --resume, running only what is missing", async () => {
    const resumed = path.join(dir, "resumed");
    const running = pdsim("sweep", sweepFile, "--out", resumed, "--workers", "1");
    // Interrupt once the first runs are in.
    const runsDir = path.join(resumed, "runs");
    while (!fs.existsSync(runsDir) || fs.readdirSync(runsDir).length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    process.emit("SIGINT", "SIGINT");
    const interrupted = await running;
    expect(interrupted.status).toBe(130);
    expect(interrupted.stderr).toContain("run again with --resume to finish");
    const before = readRows(resumed);
    const done = before.filter((r) => r.status === "ok").length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(4);
    expect(before.filter((r) => r.status === "not run")).toHaveLength(4 - done);

    const result = await pdsim("sweep", sweepFile, "--out", resumed, "--resume", "--workers", "1");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      `4 runs: ${done} already done, ${4 - done} run now, 0 failed, 0 not run`,
    );
    const strip = (rows: Row[]) => rows.map(({ wall_s: _, ...rest }) => rest);
    expect(strip(readRows(resumed))).toEqual(strip(readRows(out)));
  });

  it("lists the runs with --dry-run and writes nothing", async () => {
    const dry = path.join(dir, "dry");
    const result = await pdsim("sweep", sweepFile, "--out", dry, "--dry-run");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("4 runs of pd-2p4d-round-robin.yaml; nothing run");
    expect(result.stdout).toMatch(
      / {4}2 {2}[0-9a-f]{24} {2}seed 1 {2}proxy\.decode_policy=prefix_aware, engine\.num_gpu_blocks=1024/,
    );
    expect(fs.existsSync(dry)).toBe(false);
  });
});

describe("pdsim sweep on bad input", () => {
  const bad = async (name: string, lines: string[]) => {
    const file = writeScenario(dir, name, [
      `scenario: ${path.join(REPO, "scenarios/pd-basic.yaml")}`,
      ...lines,
    ]);
    const out = path.join(dir, `out-${name}`);
    const result = await pdsim("sweep", file, "--out", out);
    expect(result.status).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
    return { file, stderr: result.stderr };
  };

  it("names the nearest valid key of a key path the scenario does not have", async () => {
    const { file, stderr } = await bad("typo.yaml", [
      "grid:",
      "  proxy.decode_polcy: [round_robin]",
    ]);
    expect(stderr).toContain(
      `${file}:3:3: grid.proxy.decode_polcy: the run with proxy.decode_polcy=round_robin:`,
    );
    expect(stderr).toContain("did you mean 'decode_policy'?");
  });

  it("names the run and the field of a value the scenario refuses, before any run", async () => {
    const { file, stderr } = await bad("value.yaml", ["grid:", "  engine.block_size: [16, 17]"]);
    expect(stderr).toContain(
      `${file}:3:3: grid.engine.block_size: the run with engine.block_size=17: engine.block_size: expected a block size vLLM takes`,
    );
  });

  it("refuses an objective that is not a collected column, at its line", async () => {
    const { file, stderr } = await bad("objective.yaml", [
      "collect: { latency: [ttft_p99] }",
      "objective: { column: ttft_p90 }",
    ]);
    expect(stderr).toContain(
      `${file}:3:14: objective.column: 'ttft_p90' is not a collected column; the sweep collects requests.finished, simulated_seconds, ttft_p99`,
    );
  });

  it("refuses a search bound on a column the sweep does not collect", async () => {
    const { file, stderr } = await bad("bound.yaml", [
      "search: { min: 1, max: 10, objective: { ttft_p99: { max: 2000 } } }",
    ]);
    expect(stderr).toContain(
      `${file}:2:41: search.objective.ttft_p99: 'ttft_p99' is not a collected column`,
    );
  });

  it("warns of a collected column that no run has a value of", async () => {
    const file = writeScenario(dir, "typo-column.yaml", [
      `scenario: ${path.join(REPO, "scenarios/pd-basic.yaml")}`,
      "collect: { summary: [requests.finishd, requests.finished] }",
    ]);
    const result = await pdsim("sweep", file, "--out", path.join(dir, "typo-column"));
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      "pdsim: column requests.finishd has no value in any run: check its path, instance or role\n",
    );
    expect(result.stderr).not.toContain("column requests.finished ");
  });

  it("refuses an --out that is a file, in one line", async () => {
    const file = writeScenario(dir, "plain.yaml", [
      `scenario: ${path.join(REPO, "scenarios/pd-basic.yaml")}`,
    ]);
    const notDir = writeScenario(dir, "not-a-dir", ["x"]);
    const result = await pdsim("sweep", file, "--out", notDir);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `pdsim: --out ${notDir}: cannot hold a sweep's results: it or a folder above it is a file, not a directory\n`,
    );
  });

  it("refuses a key of the sweep itself with its line, and an instance that is not there", async () => {
    const { file, stderr } = await bad("keys.yaml", ["grids:", "  seed: [1]"]);
    expect(stderr).toMatch(new RegExp(`^${file}:2:1: grids: unknown key 'grids'`));
    const missing = await bad("instance.yaml", [
      "grid:",
      "  instances.decode-9.engine.max_num_seqs: [4]",
    ]);
    expect(missing.stderr).toContain(
      "no item named 'decode-9' in instances (it has prefill-0, decode-0)",
    );
  });
});

describe("sweep listing", () => {
  it("writes only runs/, runs.csv, runs.parquet, sweep.json and report.html", () => {
    const files = listFiles(path.join(dir, "out"));
    expect(files.filter((f) => !f.startsWith("runs/"))).toEqual([
      "report.html",
      "runs.csv",
      "runs.parquet",
      "sweep.json",
    ]);
    expect(files.filter((f) => f.startsWith("runs/"))).toHaveLength(4);
  });
});

describe("pdsim sweep --search rate", () => {
  it("finds each configuration's highest rate meeting the objective, and its runs bracket it", async () => {
    const file = writeScenario(dir, "capacity.yaml", [
      `scenario: ${path.join(REPO, "scenarios/quickstart.yaml")}`,
      "grid:",
      "  workload.num_requests: [80]",
      "  engine.max_num_seqs: [4, 64]",
      "seeds: [1]",
      "collect: { latency: [ttft_p90] }",
      "search:",
      "  min: 0.5",
      "  max: 100",
      "  tolerance: 0.25",
      "  objective: { ttft_p90: { max: 400 } }",
    ]);
    const out = path.join(dir, "capacity");
    const result = await pdsim("sweep", file, "--search", "rate", "--out", out, "--workers", "1");
    expect(result.stderr).toContain("0 failed, 0 not run");
    expect(result.status).toBe(0);
    const rows = parseCsv(fs.readFileSync(path.join(out, "search.csv"), "utf8"), {
      columns: true,
    }) as Row[];
    expect(rows.map((r) => r["engine.max_num_seqs"])).toEqual(["4", "64"]);
    const runs = readRows(out);
    for (const row of rows) {
      const pass = Number(row.max_rate);
      const fail = Number(row.first_failing_rate);
      expect(pass).toBeGreaterThanOrEqual(0.5);
      expect(fail / pass).toBeLessThanOrEqual(1.25);
      const at = (rate: number) =>
        Number(
          runs.find(
            (r) =>
              r["engine.max_num_seqs"] === row["engine.max_num_seqs"] &&
              Number(r["workload.arrival.rate_per_s"]) === rate,
          )!.ttft_p90,
        );
      expect(at(pass)).toBeLessThanOrEqual(400);
      expect(at(fail)).toBeGreaterThan(400);
      expect(Number(row["ttft_p90@max_rate"])).toBe(at(pass));
    }
    // Four running requests at most take less traffic than sixty-four.
    expect(Number(rows[0]!.max_rate)).toBeLessThan(Number(rows[1]!.max_rate));
    expect(result.stdout).toMatch(/^workload\.num_requests {2}engine\.max_num_seqs {2}max_rate/);
  });
});

describe("the example sweeps", () => {
  const sweeps = [
    ...fs
      .readdirSync(path.join(REPO, "scenarios/sweeps"))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => path.join("scenarios/sweeps", f)),
    "scenarios/bench/sweep-100.yaml",
  ];

  it.each(sweeps)("%s loads and lists its runs", async (file) => {
    const search = fs.readFileSync(file, "utf8").includes("\nsearch:") ? ["--search", "rate"] : [];
    const result = await pdsim("sweep", file, "--dry-run", ...search);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/; nothing run\n$/);
  });
});
