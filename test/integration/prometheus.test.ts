// The time series in `--out DIR/metrics.om`, backfilled with promtool into a TSDB and served by a
// real Prometheus on a free loopback port: PromQL at the run's last timestamp returns every
// counter of every instance's final exposition exactly, and the README's dashboard query works.
// Needs Debian's prometheus package (installed by .ci/run).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/net.ts";

const root = path.resolve(import.meta.dirname, "../..");
const SCENARIO = "scenarios/pd-mixed.yaml";

let work: string;
let prometheus: ChildProcess | null = null;
let base: string;
let lastTimestamp: number;

async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Prometheus at ${url} never became ready`);
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string, time: number): Promise<Vector[]> {
  const url = `${base}/api/v1/query?${new URLSearchParams({ query: promql, time: String(time) })}`;
  const body = (await (await fetch(url)).json()) as { status: string; data: { result: Vector[] } };
  expect(body.status).toBe("success");
  return body.data.result;
}

/** Counter samples of a Prometheus text exposition: name → label set (sorted JSON) → value. */
function counters(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([^\s{#]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || types.get(sample[1]!) !== "counter") continue;
    const labels = Object.fromEntries(
      [...(sample[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const bySet = out.get(sample[1]!) ?? new Map<string, number>();
    bySet.set(labelKey(labels), Number(sample[3]));
    out.set(sample[1]!, bySet);
  }
  return out;
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))),
  );
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-prometheus-"));
  const out = path.join(work, "run");
  const run = spawnSync(
    process.execPath,
    ["src/cli/bin.js", "run", SCENARIO, "--quiet", "--out", out],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  expect(run.status, run.stderr).toBe(0);
  const series = fs.readFileSync(path.join(out, "metrics.om"), "utf8");
  const stamps = [...series.matchAll(/ (\d+(?:\.\d+)?)$/gm)].map((m) => Number(m[1]));
  lastTimestamp = Math.max(...stamps);

  const tsdb = path.join(work, "tsdb");
  const backfill = spawnSync(
    "promtool",
    ["tsdb", "create-blocks-from", "openmetrics", path.join(out, "metrics.om"), tsdb],
    {
      encoding: "utf8",
    },
  );
  expect(backfill.error, "promtool not found: install Debian's prometheus package").toBeUndefined();
  expect(backfill.status, backfill.stderr).toBe(0);

  const config = path.join(work, "prometheus.yml");
  fs.writeFileSync(config, "global:\n  scrape_interval: 15s\n");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${tsdb}`,
      // The samples are dated 2026-01-01: keep them whatever today's date.
      "--storage.tsdb.retention.time=100y",
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  await waitReady(base);
}, 120_000);

afterAll(async () => {
  if (prometheus !== null && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
    prometheus.kill("SIGTERM");
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

describe("the backfilled time series in a real Prometheus", () => {
  it("returns every counter of every instance's final exposition, exactly, at the last scrape", async () => {
    const metricsDir = path.join(work, "run", "metrics");
    let compared = 0;
    for (const file of fs.readdirSync(metricsDir)) {
      const instance = file.replace(/\.prom$/, "");
      const final = counters(fs.readFileSync(path.join(metricsDir, file), "utf8"));
      for (const [name, bySet] of final) {
        const result = await query(`{__name__="${name}",instance="${instance}"}`, lastTimestamp);
        const got = new Map(
          result.map((v) => {
            const { __name__: _n, instance: _i, job, ...labels } = v.metric;
            expect(job).toBe("pdsim");
            return [labelKey(labels), Number(v.value[1])];
          }),
        );
        expect({ instance, name, series: got }).toEqual({ instance, name, series: bySet });
        compared += bySet.size;
      }
    }
    // Enough series to mean something: every instance's vLLM and pdsim counters.
    expect(compared).toBeGreaterThan(60);
  });

  it("answers the README's query: prompt tokens by source over the last five minutes", async () => {
    const result = await query(
      'sum by (source) (increase(vllm:prompt_tokens_by_source_total{instance="decode-0"}[5m]))',
      lastTimestamp,
    );
    expect(result.map((v) => v.metric.source).sort()).toEqual([
      "external_kv_transfer",
      "local_cache_hit",
      "local_compute",
    ]);
  });
});
