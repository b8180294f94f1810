// `--out DIR/report.html` without a browser (the integration test opens it in Chromium): one
// self-contained file whose data agrees with the run's other outputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportData } from "../../src/output/report-data.ts";
import { pdsim, removeDir, scratchDir } from "./cli.ts";

let dir = "";
let html = "";
let data: ReportData;

beforeAll(async () => {
  dir = scratchDir();
  const out = path.join(dir, "run");
  const run = await pdsim("run", "scenarios/pd-shared-prefix.yaml", "--quiet", "--out", out);
  expect(run.status, run.stderr).toBe(0);
  html = fs.readFileSync(path.join(out, "report.html"), "utf8");
  const json = /<script type="application\/json" id="pdsim-data">(.*?)<\/script>/s.exec(html)![1]!;
  data = JSON.parse(json) as ReportData;
});
afterAll(() => removeDir(dir));

describe("report.html", () => {
  it("is one file: no script, style or image is loaded from elsewhere", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]*\s(src|href)=/i);
    expect(html).toContain("Chart.js v4.6.1");
  });

  it("has four charts per instance, the requests' sources and the timeline", () => {
    const ids = [...html.matchAll(/<canvas id="([^"]+)"/g)].map((m) => m[1]);
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
    expect(data.instances[1]!.truth.external_kv_transfer.length).toBe(data.times.length);
  });
});
