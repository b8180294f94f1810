// DIR/report.html in a real browser: Debian's Chromium (installed by .ci/run), driven by
// playwright-core without a browser download. The page must load from disk with no network,
// log no console error, and draw every chart with data.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blankCanvases, launchChromium, openWatched } from "../support/chromium.ts";

const root = path.resolve(import.meta.dirname, "../..");

let work: string;
let browser: Browser;

function reportOf(scenario: string, ...extra: string[]): string {
  const out = path.join(work, path.basename(scenario, ".yaml") + extra.join(""));
  const run = spawnSync(
    process.execPath,
    ["src/cli/bin.js", "run", scenario, "--quiet", "--out", out, ...extra],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  expect(run.status, run.stderr).toBe(0);
  return path.join(out, "report.html");
}

/** A sweep of two keys with two seeds each, run with `pdsim sweep`: its report.html. */
function sweepReport(): string {
  const file = path.join(work, "sweep.yaml");
  fs.writeFileSync(
    file,
    [
      `scenario: ${path.join(root, "scenarios/pd-2p4d-round-robin.yaml")}`,
      "grid:",
      "  proxy.decode_policy: [round_robin, prefix_aware]",
      "  engine.num_gpu_blocks: [1024, 4096]",
      "seeds: [1, 2]",
      "collect: { latency: [ttft_p99, e2e_mean] }",
      "objective: { column: ttft_p99 }",
    ].join("\n"),
  );
  const out = path.join(work, "sweep");
  const run = spawnSync(process.execPath, ["src/cli/bin.js", "sweep", file, "--out", out], {
    cwd: root,
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return path.join(out, "report.html");
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-report-"));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function open(file: string, screenshot?: string) {
  const { page, errors, requests } = await openWatched(browser, `file://${file}`);
  // In-page code as strings: the test's TypeScript has no DOM types.
  await page.waitForFunction(
    "window.pdsimReport !== undefined && window.pdsimReport.ready === true",
  );
  const { fewestPoints, intervals, ...report } = (await page.evaluate("window.pdsimReport")) as {
    charts: number;
    empty: number;
    fewestPoints: number;
    intervals: number;
  };
  const canvases = await page.locator("canvas").count();
  // Drawn, not blank: some pixel of every canvas differs from its first.
  const blank = (await page.evaluate(blankCanvases("canvas"))) as number;
  if (screenshot !== undefined) await page.screenshot({ path: screenshot, fullPage: false });
  await page.close();
  return { errors, requests, report, fewestPoints, intervals, canvases, blank };
}

describe("report.html in headless Chromium", () => {
  it("draws every chart of a P/D run, with no console error and nothing fetched", async () => {
    const shot = process.env.PDSIM_REPORT_SCREENSHOT;
    const result = await open(reportOf("scenarios/pd-2p4d-prefix-aware.yaml"), shot);
    expect(result.errors).toEqual([]);
    expect(result.requests).toEqual([]);
    // Four per instance (6 instances), the requests' sources and the timeline.
    expect(result.canvases).toBe(6 * 4 + 2);
    expect(result.report).toEqual({ charts: result.canvases, empty: 0, ready: true });
    expect(result.blank).toBe(0);
    expect(result.intervals).toBeGreaterThanOrEqual(20);
    expect(result.fewestPoints).toBeGreaterThanOrEqual(20);
  }, 60_000);

  it("draws a run of about 2 s with at least 20 points a series, though it scrapes every 15 s", async () => {
    const result = await open(reportOf("scenarios/pd-shared-prefix.yaml"));
    expect(result.errors).toEqual([]);
    expect(result.report).toEqual({ charts: 2 * 4 + 2, empty: 0, ready: true });
    expect(result.intervals).toBeGreaterThanOrEqual(20);
    expect(result.fewestPoints).toBeGreaterThanOrEqual(20);
    expect(result.blank).toBe(0);
  }, 60_000);

  it("draws a unified run under the oldest profile, which has no source split", async () => {
    const result = await open(reportOf("scenarios/prefix-hits.yaml", "--profile", "vllm-pre33290"));
    expect(result.errors).toEqual([]);
    expect(result.canvases).toBe(4 + 2);
    // No P/D request: the timeline has no span, every other chart has data.
    expect(result.report).toEqual({ charts: 6, empty: 1, ready: true });
  }, 60_000);

  it("draws every chart of a sweep's report, each column against each varied key", async () => {
    const result = await open(sweepReport(), process.env.PDSIM_SWEEP_REPORT_SCREENSHOT);
    expect(result.errors).toEqual([]);
    expect(result.requests).toEqual([]);
    // Four columns (two summary fields by default, two latencies) against two keys.
    expect(result.canvases).toBe(4 * 2);
    expect(result.report).toEqual({ charts: result.canvases, empty: 0, ready: true });
    expect(result.blank).toBe(0);
  }, 120_000);
});
