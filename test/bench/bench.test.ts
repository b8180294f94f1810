// `pdsim bench`'s refusals and the profiling scenarios; the timed runs and bench-small's output
// digest are in test/slow/bench.test.ts.
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../src/scenario/index.ts";
import type { GeneratedWorkloadConfig, Scenario } from "../../src/scenario/types.ts";
import { pdsim } from "../e2e/cli.ts";

describe("pdsim bench", () => {
  it("refuses a number of runs that is not a whole number of at least 1", async () => {
    const r = await pdsim("bench", "--quick", "--repeat", "0");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--repeat must be a whole number of runs, at least 1, got 0");
  });

  it("refuses a scenario that is not a benchmark", async () => {
    const r = await pdsim("bench", "--scenario", "bench-huge");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'Given: "bench-huge", Choices: "bench-small", "bench-medium", "bench-large"',
    );
  });
});

describe("the profiling scenarios", () => {
  it("profile-prefill is bench-small with one-token outputs and nothing else changed", () => {
    const small = loadScenario("scenarios/bench/bench-small.yaml");
    const prefill = loadScenario("scenarios/bench/profile-prefill.yaml");
    // Everything but the name, the prose, where each entry sits in its file, and output_tokens.
    const strip = (s: Scenario): unknown => {
      const { name: _n, lesson: _l, description: _d, file: _f, workload, ...rest } = s;
      const { output_tokens: _o, ...w } = workload as GeneratedWorkloadConfig;
      return JSON.parse(
        JSON.stringify({ ...rest, workload: w }, (key, value: unknown) =>
          key === "line" ? undefined : value,
        ),
      );
    };
    expect(strip(prefill)).toEqual(strip(small));
    expect((prefill.workload as GeneratedWorkloadConfig).output_tokens).toEqual({
      dist: "constant",
      value: 1,
    });
  });

  it("profile-decode spends its engine steps decoding: 16 requests a step, 1000 tokens each", async () => {
    const r = await pdsim("bench-run", "scenarios/bench/profile-decode.yaml");
    expect(r.status, r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout) as { engine_steps: number; requests: number };
    expect(figures.requests).toBe(3000);
    // 3,000,000 decode request-steps at most 16 to a step, plus a prefill step per wave.
    expect(figures.engine_steps).toBeGreaterThanOrEqual(3_000_000 / 16);
    expect(figures.engine_steps).toBeLessThan((3_000_000 / 16) * 1.01);
  }, 60_000);
});
