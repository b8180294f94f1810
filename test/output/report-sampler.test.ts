// The report's sampler: a grid that starts fine and coarsens by doubling, so that a run of any
// length gets between half of and all of REPORT_MAX_POINTS intervals.
import { describe, expect, it } from "vitest";
import {
  REPORT_FIRST_INTERVAL_US,
  REPORT_MAX_POINTS,
  ReportSampler,
} from "../../src/output/report-sampler.ts";

/** An exposition whose every counter reads the simulated time it is read at. */
function clockExposition(clock: { now: number }) {
  return { sampleValue: () => clock.now };
}

/** Samples as Cluster.advance would, until `end` µs; returns what the report gets. */
function sampleUntil(end: number) {
  const clock = { now: 0 };
  const sampler = new ReportSampler([{ name: "i", exposition: clockExposition(clock) }]);
  while (sampler.nextTime <= end) {
    clock.now = sampler.nextTime;
    sampler.sample(sampler.nextTime);
  }
  clock.now = end;
  return sampler.finish(end);
}

describe("ReportSampler", () => {
  it("takes its first sample when it is made, before the run starts", () => {
    const clock = { now: 0 };
    const exposition = { sampleValue: () => clock.now + 7 };
    const sampler = new ReportSampler([{ name: "i", exposition }]);
    clock.now = 5;
    expect(sampler.nextTime).toBe(REPORT_FIRST_INTERVAL_US);
    expect(sampler.finish(0)).toEqual({
      times: [0],
      intervalUs: REPORT_FIRST_INTERVAL_US,
      values: [expect.objectContaining({ prefixHits: [7] })],
    });
  });

  it("keeps the first interval for a run shorter than the grid's capacity", () => {
    const { times, intervalUs } = sampleUntil(50 * REPORT_FIRST_INTERVAL_US + 300);
    expect(intervalUs).toBe(REPORT_FIRST_INTERVAL_US);
    expect(times).toHaveLength(52);
    expect(times.at(-2)).toBe(50 * REPORT_FIRST_INTERVAL_US);
    expect(times.at(-1)).toBe(50 * REPORT_FIRST_INTERVAL_US + 300);
  });

  it.each([0.3, 2, 17, 3_600, 86_400])(
    "gives a %s s run between half and all of the maximum number of intervals",
    (seconds) => {
      const end = seconds * 1e6;
      const { times, intervalUs, values } = sampleUntil(end);
      const intervals = times.length - 1;
      expect(intervals).toBeGreaterThanOrEqual(REPORT_MAX_POINTS / 2);
      expect(intervals).toBeLessThanOrEqual(REPORT_MAX_POINTS);
      // A grid of whole intervals from 0, and the end.
      expect(times[0]).toBe(0);
      times.slice(0, -1).forEach((t, i) => expect(t).toBe(i * intervalUs));
      expect(times.at(-1)).toBe(end);
      // Each kept sample is the reading taken at its own time, the last one's at the end.
      expect(values[0]!.running).toEqual(times);
    },
  );

  it("drops the samples taken after the work ended", () => {
    const clock = { now: 0 };
    const sampler = new ReportSampler([{ name: "i", exposition: clockExposition(clock) }]);
    for (let i = 0; i < 10; i++) {
      clock.now = sampler.nextTime;
      sampler.sample(sampler.nextTime);
    }
    // The run's state at its end is the state now.
    clock.now = 4_500;
    const { times, values } = sampler.finish(4_500);
    expect(times).toEqual([0, 1_000, 2_000, 3_000, 4_000, 4_500]);
    expect(values[0]!.prefixHits).toEqual(times);
  });

  it("keeps each gauge's highest value over every interval, through the doublings", () => {
    // Gauges read 0 at every sample; a step at each first-grid time t (in first intervals) leaves
    // f(t) requests running: t when odd, else none, so that a merged interval's highest is its
    // earlier half's as often as its later half's.
    const f = (end: number) => (end % 2 === 1 ? end : 0);
    const zero = { sampleValue: () => 0 };
    const sampler = new ReportSampler([{ name: "i", exposition: zero }]);
    const step = (running: number) => ({
      outputs: {
        schedulerStats: {
          kvCacheUsage: running / 1000,
          numRunningReqs: running,
          numWaitingReqs: 0,
        },
      },
    });
    // A step at every first-grid time t (the samples come at some of them, after its step).
    for (let t = 1; t <= 1_000; t++) {
      sampler.onEngineStep({ name: "i" }, step(f(t)));
      if (sampler.nextTime === t * REPORT_FIRST_INTERVAL_US) sampler.sample(sampler.nextTime);
    }
    const { times, intervalUs, values } = sampler.finish(1_000 * REPORT_FIRST_INTERVAL_US);
    const peaks = values[0]!["peak:running"]!;
    // Each interval's highest is the highest step in it, through every doubling.
    times.slice(1).forEach((t, j) => {
      const from = times[j]! / REPORT_FIRST_INTERVAL_US;
      const to = t / REPORT_FIRST_INTERVAL_US;
      let highest = 0;
      for (let end = from + 1; end <= to; end++) highest = Math.max(highest, f(end));
      expect(peaks[j + 1]).toBe(highest);
    });
    expect(intervalUs).toBeGreaterThan(REPORT_FIRST_INTERVAL_US);
    // What the gauge read at the samples themselves stays 0.
    expect(new Set(values[0]!.running)).toEqual(new Set([0]));
  });
});
