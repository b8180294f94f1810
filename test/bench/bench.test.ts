// `pdsim bench --quick`: bench-small under the three configurations, with figures that hang
// together; and bench-small's outputs, which no speed-up may change.
import { describe, expect, it } from "vitest";
import type { BenchRow } from "../../src/cli/bench-command.ts";
import { pdsim } from "../e2e/cli.ts";
import { benchSmallDigest } from "./bench-small-outputs.ts";

/**
 * Recorded before any optimisation of issue 8. A change that moves it changed what the simulator
 * computes, not only how fast: that is a bug, unless the change meant to alter the model (then
 * say so in its commit and record the new digest).
 */
const BENCH_SMALL_DIGEST = "8f17dedc940809eec56d233ae3c0ae1f1c971a3eae86deaba3cd339030f4b018";

describe("pdsim bench --quick", () => {
  it("times bench-small four ways and reports sane figures", () => {
    const r = pdsim("bench", "--quick", "--json");
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as BenchRow[];
    expect(rows.map((row) => [row.scenario, row.config])).toEqual([
      ["bench-small", "stat loggers off"],
      ["bench-small", "stat loggers on"],
      ["bench-small", "--profile all"],
      ["bench-small", "--out"],
    ]);
    const [off] = rows;
    for (const row of rows) {
      // The same simulation each time: only the cost differs (and --out's scrapes add timer
      // events of their own).
      expect({
        requests: row.requests,
        simulated: row.simulated_seconds,
        steps: row.engine_steps,
      }).toEqual({
        requests: 10_000,
        simulated: off!.simulated_seconds,
        steps: off!.engine_steps,
      });
      expect(row.events).toBeGreaterThanOrEqual(off!.events);
      expect(row.events).toBeLessThan(off!.events * 1.01);
      expect(row.run_wall_seconds).toBeGreaterThan(0);
      expect(row.process_wall_seconds).toBeGreaterThan(row.run_wall_seconds);
      expect(row.requests_per_second).toBeCloseTo(row.requests / row.run_wall_seconds, 6);
      expect(row.events_per_second).toBeCloseTo(row.events / row.run_wall_seconds, 6);
      expect(row.peak_rss_mb).toBeGreaterThan(20);
      expect(row.peak_rss_mb).toBeLessThan(24 * 1024);
      expect(row.cost_vs_off).toBeCloseTo(row.run_wall_seconds / off!.run_wall_seconds, 6);
    }
    expect(off!.simulated_seconds).toBeGreaterThan(60);
  }, 180_000);

  it("refuses a number of runs that is not a whole number of at least 1", () => {
    const r = pdsim("bench", "--quick", "--repeat", "0");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--repeat must be a whole number of runs, at least 1, got 0");
  });

  it("refuses a scenario that is not a benchmark", () => {
    const r = pdsim("bench", "--scenario", "bench-huge");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'Given: "bench-huge", Choices: "bench-small", "bench-medium", "bench-large"',
    );
  });
});

describe("bench-small's outputs", () => {
  it("are the ones recorded before any optimisation", () => {
    const { digest, requests } = benchSmallDigest();
    expect(requests).toBe(10_000);
    expect(digest).toBe(BENCH_SMALL_DIGEST);
  }, 120_000);
});
