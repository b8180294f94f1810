import { describe, expect, it } from "vitest";
import { meanInterval } from "../../src/sweep/confidence.ts";
import type { RunResult } from "../../src/sweep/run-one.ts";
import type { Sweep } from "../../src/sweep/sweep-file.ts";
import { renderSweepReport } from "../../src/sweep/sweep-report-page.ts";
import { sweepReportData } from "../../src/sweep/sweep-report.ts";

const TIMES = { started: "2026-01-01T00:00:00.000Z", ended: "2026-01-01T00:01:00.000Z" };

/** A grid of `grid`'s values with `seeds`, whose run i has values `value(variant, seed)`. */
function sweepOf(
  grid: Record<string, unknown[]>,
  seeds: number[],
  value: (variant: Record<string, unknown>, seed: number) => Record<string, number> | "failed",
  objective?: Sweep["objective"],
): { sweep: Sweep; results: Map<string, RunResult> } {
  let variants: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    variants = variants.flatMap((v) => values.map((x) => ({ ...v, [key]: x })));
  }
  const runs = variants.flatMap((variant, v) =>
    seeds.map((seed, s) => {
      const index = v * seeds.length + s;
      return { index, key: `run-${index}`, variant, seed, scenario: {}, scenarioFile: "b.yaml" };
    }),
  );
  const results = new Map<string, RunResult>();
  for (const spec of runs) {
    const values = value(spec.variant, spec.seed);
    results.set(
      spec.key,
      values === "failed"
        ? { key: spec.key, index: spec.index, status: "failed", error: "x", wall_s: 0, values: {} }
        : { key: spec.key, index: spec.index, status: "ok", wall_s: 0, values },
    );
  }
  const sweep: Sweep = {
    file: "s.yaml",
    name: "s",
    description: "a <test> sweep",
    scenarioFile: "/scenarios/b.yaml",
    keys: Object.keys(grid),
    seeds,
    collect: { summary: ["x", "y"], metrics: [], latency: [], truth_vs_reported: false },
    ...(objective === undefined ? {} : { objective }),
    variants: [],
    runsOf: () => [],
    runs,
  };
  return { sweep, results };
}

/** The cells of each row of the best-configurations table. */
const bestRows = (html: string): string[][] => {
  const body = /<table id="best">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!),
  );
};

const policies = ["round_robin", "prefix_aware", "least_loaded"];
const blocks = [4096, 1024];
/** x = blocks/1024 + policy index + seed/10; y = 100 − x. */
const twoKeys = (objective?: Sweep["objective"]) =>
  sweepOf(
    { policy: policies, blocks },
    [0, 1, 2],
    (v, seed) => {
      const x = (v.blocks as number) / 1024 + policies.indexOf(v.policy as string) + seed / 10;
      return { x, y: 100 - x };
    },
    objective,
  );

describe("the sweep report's charts", () => {
  it("draws each collected column against each varied key, a line a value of the other key", () => {
    const { sweep, results } = twoKeys();
    const data = sweepReportData(sweep, results, "b.yaml");
    expect(data.charts.map((c) => `${c.column}/${c.key}`)).toEqual([
      "x/policy",
      "x/blocks",
      "y/policy",
      "y/blocks",
    ]);
    const html = renderSweepReport(data, "test", TIMES);
    expect(html.match(/<canvas /g)).toHaveLength(4);

    const byPolicy = data.charts[0]!;
    // Categories in the sweep's order; one line a value of blocks, in the sweep's order.
    expect(byPolicy).toMatchObject({ axis: "category", xs: policies, lineKey: "blocks" });
    expect(byPolicy.series.map((s) => s.label)).toEqual(["4096", "1024"]);
    // prefix_aware with 1024 blocks: 1 + 1 + {0, 0.1, 0.2}.
    expect(byPolicy.series[1]!.points[1]).toEqual(meanInterval([2, 2.1, 2.2]));
    // A numeric key is a linear axis, its values sorted.
    const byBlocks = data.charts[1]!;
    expect(byBlocks).toMatchObject({ axis: "linear", xs: [1024, 4096], lineKey: "policy" });
    expect(byBlocks.series[0]!.points[1]!.mean).toBeCloseTo(4.1, 12);
    expect(byBlocks.series[0]!.points[1]!.half).toBeCloseTo(meanInterval([4, 4.1, 4.2]).half!, 12);
  });

  it("pools the other keys into each point past two keys, and says so", () => {
    const { sweep, results } = sweepOf({ a: [1, 2], b: [1, 2], c: ["u", "v"] }, [0], (v) => ({
      x: (v.a as number) * 10 + (v.b as number),
      y: 0,
    }));
    const data = sweepReportData(sweep, results, "b.yaml");
    const byA = data.charts[0]!;
    expect(byA).toMatchObject({ key: "a", lineKey: null, pooled: ["b", "c"] });
    // a = 1: x is 11, 11, 12, 12 over b and c.
    expect(byA.series[0]!.points[0]).toEqual(meanInterval([11, 11, 12, 12]));
    expect(renderSweepReport(data, "test", TIMES)).toContain("x against a, pooled over b, c");
  });

  it("leaves failed runs out, and has no interval where one run remains", () => {
    const { sweep, results } = sweepOf({ a: [1, 2] }, [0, 1], (v, seed) =>
      v.a === 2 && seed === 1 ? "failed" : { x: seed, y: 1 },
    );
    const data = sweepReportData(sweep, results, "b.yaml");
    expect(data.counts).toEqual({ runs: 4, ok: 3, failed: 1, not_run: 0 });
    expect(data.charts[0]!.series[0]!.points).toEqual([
      meanInterval([0, 1]),
      { n: 1, mean: 0, half: null },
    ]);
  });
});

describe("the best configurations", () => {
  it("ranks configurations by the objective's mean over seeds, best first", () => {
    const { sweep, results } = twoKeys({ column: "x", goal: "min" });
    const html = renderSweepReport(sweepReportData(sweep, results, "b.yaml"), "test", TIMES);
    const rows = bestRows(html);
    expect(rows).toHaveLength(6);
    // rank, policy, blocks, mean, interval, seeds.
    expect(rows[0]).toEqual(["1", "round_robin", "1024", "1.1", "± 0.248414", "3 of 3"]);
    const means = rows.map((r) => Number(r[3]));
    expect(means).toEqual([...means].sort((a, b) => a - b));
    expect(html).toContain("the sweep's objective, the mean over seeds of <code>x</code> (lower");
  });

  it("puts the highest first for a goal of max", () => {
    const { sweep, results } = twoKeys({ column: "x", goal: "max" });
    const rows = bestRows(renderSweepReport(sweepReportData(sweep, results, "b"), "t", TIMES));
    expect(rows[0]!.slice(1, 4)).toEqual(["least_loaded", "4096", "6.1"]);
    const means = rows.map((r) => Number(r[3]));
    expect(means).toEqual([...means].sort((a, b) => b - a));
  });

  it("keeps the ten best, and ranks by the first column when the sweep names no objective", () => {
    const { sweep, results } = sweepOf({ a: [...Array(12).keys()] }, [0], (v) => ({
      x: 12 - (v.a as number),
      y: 0,
    }));
    const html = renderSweepReport(sweepReportData(sweep, results, "b.yaml"), "test", TIMES);
    const rows = bestRows(html);
    expect(rows.map((r) => r[1])).toEqual(["11", "10", "9", "8", "7", "6", "5", "4", "3", "2"]);
    expect(rows[0]!.slice(2)).toEqual(["1", "–", "1 of 1"]);
    expect(html).toContain("by the first collected column, <code>x</code>, the sweep naming no");
  });
});

describe("the sweep report page", () => {
  it("is the same bytes for the same results, with the counts and the escaped description", () => {
    const { sweep, results } = twoKeys();
    const render = () => renderSweepReport(sweepReportData(sweep, results, "b"), "test", TIMES);
    const html = render();
    expect(render()).toBe(html);
    expect(html).toContain('<p id="counts">18 runs: 18 ok, 0 failed, 0 not run.</p>');
    expect(html).toContain("<p>a &lt;test&gt; sweep</p>");
    // Chart.js is inlined: the page fetches nothing.
    expect(html).not.toMatch(/<script[^>]+src=/);
  });

  it("says when there is no varied key to chart and no value to rank", () => {
    const { sweep, results } = sweepOf({}, [0, 1], () => "failed");
    const data = sweepReportData(sweep, results, "b.yaml");
    expect(data).toMatchObject({ charts: [], emptyColumns: ["x", "y"], configurations: 1 });
    const html = renderSweepReport(data, "test", TIMES);
    expect(html).not.toContain("<canvas");
    expect(html).not.toContain('<table id="best">');
    expect(html).toContain("The sweep varies no key: no chart.");
    expect(html).toContain("No run has a value of <code>x</code>");
    expect(html).toContain('<p id="counts">2 runs: 0 ok, 2 failed, 0 not run.</p>');
  });
});
