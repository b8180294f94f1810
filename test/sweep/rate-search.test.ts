import { describe, expect, it } from "vitest";
import { judge, nextRate, record, type SearchState } from "../../src/sweep/rate-search.ts";
import type { RunResult } from "../../src/sweep/run-one.ts";
import type { SearchSpec } from "../../src/sweep/sweep-schema.ts";

const search: SearchSpec = {
  key: "workload.arrival.rate_per_s",
  min: 1,
  max: 64,
  tolerance: 0.05,
  objective: { ttft_p99: { max: 2000 } },
};

const state = (): SearchState => ({
  variant: {},
  pass: null,
  fail: null,
  atPass: null,
  probes: 0,
  done: false,
});

const result = (ttft: number | null, status: RunResult["status"] = "ok"): RunResult => ({
  key: "k",
  index: 0,
  status,
  wall_s: 0,
  values: { ttft_p99: ttft },
});

describe("the rate search", () => {
  it("finds the capacity of a deployment whose TTFT grows past its bound at 10.3 requests/s", () => {
    const s = state();
    const rates: number[] = [];
    for (let rate = nextRate(s, search); rate !== null; rate = nextRate(s, search)) {
      rates.push(rate);
      record(s, rate, judge([result(rate < 10.3 ? 500 : 5000)], search));
    }
    // max first, then min, then geometric midpoints until within 5 %.
    expect(rates.slice(0, 3)).toEqual([64, 1, 8]);
    expect(s.pass!).toBeLessThan(10.3);
    expect(s.fail!).toBeGreaterThanOrEqual(10.3);
    expect(s.fail! / s.pass!).toBeLessThanOrEqual(1.05);
    expect(s.probes).toBe(rates.length);
    expect(s.atPass).toEqual({ ttft_p99: 500 });
  });

  it("stops at max when max passes, and with no rate when min fails", () => {
    const easy = state();
    record(easy, 64, judge([result(10)], search));
    expect(nextRate(easy, search)).toBeNull();
    const hard = state();
    record(hard, 64, judge([result(9000)], search));
    expect(nextRate(hard, search)).toBe(1);
    record(hard, 1, judge([result(9000)], search));
    expect(nextRate(hard, search)).toBeNull();
    expect(hard.pass).toBeNull();
  });

  it("judges the mean over the seeds, and fails a probe with a failed run or no value", () => {
    expect(judge([result(1000), result(2900)], search).pass).toBe(true); // mean 1,950
    expect(judge([result(1000), result(3100)], search).pass).toBe(false); // mean 2,050
    expect(judge([result(10), result(10, "failed")], search).pass).toBe(false);
    expect(judge([result(null)], search).pass).toBe(false);
    const min = { ...search, objective: { throughput: { min: 100 } } };
    expect(judge([{ ...result(0), values: { throughput: 99 } }], min).pass).toBe(false);
  });
});
