// `--out DIR/report.html` without a browser (the integration test opens it in Chromium): one
// self-contained file whose data agrees with the run's other outputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportData } from "../../src/output/report-data.ts";
import { REPORT_MAX_POINTS } from "../../src/output/report-sampler.ts";
import { reportFiguresHtml } from "../../src/playground/report-figures.ts";
import { pdsim, removeDir, scratchDir } from "./cli.ts";

let dir = "";
let html = "";
let data: ReportData;
let summary: {
  simulated_seconds: number;
  instances: { name: string; prompt_tokens: number; prompt_tokens_computed: number }[];
};

beforeAll(async () => {
  dir = scratchDir();
  const out = path.join(dir, "run");
  const run = await pdsim("run", "scenarios/pd-shared-prefix.yaml", "--quiet", "--out", out);
  expect(run.status, run.stderr).toBe(0);
  html = fs.readFileSync(path.join(out, "report.html"), "utf8");
  const json = /<script type="application\/json" id="pdsim-data">(.*?)<\/script>/s.exec(html)![1]!;
  data = JSON.parse(json) as ReportData;
  summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as typeof summary;
});
afterAll(() => removeDir(dir));

describe("report.html", () => {
  it("is one file: no script, style or image is loaded from elsewhere", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]*\s(src|href)=/i);
    expect(html).toContain("Chart.js v4.6.1");
    // The charts' code, bundled from the playground's module.
    expect(html).toContain("pdsimCharts");
  });

  it("has four charts per instance, the requests' sources and the timeline", () => {
    const figures = reportFiguresHtml(data);
    const ids = [...figures.matchAll(/<canvas id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual([
      "sources-0",
      "hits-0",
      "usage-0",
      "queue-0",
      "sources-1",
      "hits-1",
      "usage-1",
      "queue-1",
      "requests",
      "timeline",
    ]);
  });

  it("carries the truth of each request that agrees with requests.jsonl, and P/D spans in order", () => {
    const records = fs
      .readFileSync(path.join(dir, "run", "requests.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; legs: { instance: string; truth: object }[] });
    expect(data.requests.length).toBeGreaterThan(0);
    for (const r of data.requests) {
      const leg = records.find((x) => x.id === r.id)!.legs.find((l) => l.instance === r.instance)!;
      expect(r.sources).toEqual(leg.truth);
    }
    const first = data.spans
      .filter((s) => s.request === data.spans[0]!.request)
      .map((s) => s.phase);
    expect(first).toEqual([
      "P queue",
      "P prefill",
      "transfer",
      "D queue",
      "D first step",
      "decode",
    ]);
    expect(data.instances.map((i) => i.name)).toEqual(["prefill-0", "decode-0"]);
    expect(data.instances[1]!.truth.external_kv_transfer.length).toBe(data.times.length - 1);
  });

  // The scenario's scrape interval is 15 s, longer than the whole run: the report does not use it.
  it("samples a 2 s run at a resolution that fits it, up to where its work ended", () => {
    const { times, intervalS, end } = data;
    expect(end).toBe(summary.simulated_seconds);
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBe(end);
    expect(times.length).toBeGreaterThanOrEqual(REPORT_MAX_POINTS / 2);
    expect(times.length).toBeLessThanOrEqual(REPORT_MAX_POINTS + 1);
    times.slice(1).forEach((t, i) => {
      const width = t - times[i]!;
      expect(width).toBeGreaterThan(0);
      // Every interval is one grid step, the last one (to the end) at most one.
      if (i < times.length - 2) expect(width).toBeCloseTo(intervalS, 9);
      else expect(width).toBeLessThanOrEqual(intervalS + 1e-9);
    });
  });

  it("has per-interval rates that add up to each instance's prompt tokens", () => {
    for (const instance of data.instances) {
      const tokens = (rates: number[]) =>
        rates.reduce((sum, r, i) => sum + r * (data.times[i + 1]! - data.times[i]!), 0);
      const truth = Object.values(instance.truth).map(tokens);
      const totals = summary.instances.find((i) => i.name === instance.name)!;
      expect(truth.reduce((a, b) => a + b, 0)).toBeCloseTo(totals.prompt_tokens, 6);
      expect(tokens(instance.truth.local_compute)).toBeCloseTo(totals.prompt_tokens_computed, 6);
    }
  });
});
