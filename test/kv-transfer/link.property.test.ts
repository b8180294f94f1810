// Properties of the link over random transfers: each is checked against a bound that holds for
// any fair work-conserving link, computed here without the link's own bookkeeping.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Simulation } from "../../sim/index.ts";
import { Link, type LinkTransfer, type TransferTiming } from "../../src/kv-transfer/link.ts";
import { expectReached, propertyParams } from "../support/property.ts";

/** The float slack the link allows a completion before rounding it up, plus a margin. */
const SLACK_US = 1e-5;

interface TransferSpec {
  at: number;
  /** Link time the transfer would take alone, in µs; turned into bytes for the bandwidth. */
  workUs: number;
  abortAfter: number | null;
}

interface Scenario {
  latencyUs: number;
  bandwidthBytesPerS: number;
  transfers: TransferSpec[];
}

const bandwidthArb = fc.oneof(
  fc.constantFrom(3e5, 7e5, 1e6, 1.1e9, 2.5e10),
  fc.integer({ min: 100_000, max: 5_000_000_000 }),
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  latencyUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 })),
  bandwidthBytesPerS: bandwidthArb,
  transfers: fc.array(
    fc.record({
      // A few common start times and sizes, so that transfers tie.
      at: fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(0, 500) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 3000 }) },
      ),
      workUs: fc.oneof(
        { weight: 1, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.constantFrom(100, 400) },
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 2000 }) },
      ),
      abortAfter: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }) },
      ),
    }),
    { minLength: 1, maxLength: 30, size: "medium" },
  ),
});

interface Outcome {
  index: number;
  bytes: number;
  startTime: number;
  /** Set when onDone ran. */
  timing: TransferTiming | null;
  /** Set when an abort call found the transfer still in flight. */
  abortedAt: number | null;
}

interface RunResult {
  outcomes: Outcome[];
  /** Completions in the order onDone ran. */
  order: number[];
  linkEvents: number;
  maxLinkPending: number;
  link: Link;
  sim: Simulation;
}

function bytesFor(workUs: number, bandwidthBytesPerS: number): number {
  return Math.round((workUs * bandwidthBytesPerS) / 1e6);
}

/** Drives one scenario: starts and aborts are kernel events of their own. */
function runScenario(s: Scenario): RunResult {
  const sim = new Simulation();
  const link = new Link(sim, "p->d", s);
  const outcomes: Outcome[] = [];
  const order: number[] = [];
  const handles: (LinkTransfer | null)[] = s.transfers.map(() => null);
  let testEventsPending = 0;
  let testEventsFired = 0;
  let maxLinkPending = 0;
  const testEvent = (time: number, action: () => void): void => {
    testEventsPending++;
    sim.scheduleAt(time, () => {
      testEventsPending--;
      testEventsFired++;
      action();
      maxLinkPending = Math.max(maxLinkPending, sim.pendingEvents - testEventsPending);
    });
  };
  s.transfers.forEach((spec, index) => {
    const bytes = bytesFor(spec.workUs, s.bandwidthBytesPerS);
    const outcome: Outcome = { index, bytes, startTime: spec.at, timing: null, abortedAt: null };
    outcomes.push(outcome);
    testEvent(spec.at, () => {
      handles[index] = link.start(bytes, (timing) => {
        outcome.timing = timing;
        order.push(index);
      });
    });
    if (spec.abortAfter !== null) {
      testEvent(spec.at + spec.abortAfter, () => {
        const handle = handles[index];
        if (handle === null || handle === undefined) throw new Error(`transfer ${index} missing`);
        const before = link.totals.aborted;
        link.abort(handle);
        if (link.totals.aborted > before) outcome.abortedAt = sim.now;
      });
    }
  });
  sim.run({ maxEvents: 10 * (2 * s.transfers.length + 1) });
  return {
    outcomes,
    order,
    linkEvents: sim.eventsProcessed - testEventsFired,
    maxLinkPending,
    link,
    sim,
  };
}

/** Length of the union of the intervals, clipped to end by `until`. */
function unionLength(intervals: [number, number][], until: number): number {
  const clipped = intervals
    .map(([a, b]): [number, number] => [a, Math.min(b, until)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of clipped) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else {
      curEnd = Math.max(curEnd, b);
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/**
 * For transfers that are never aborted, a work-conserving link empties when a FIFO queue of the
 * same work would: returns, per busy period, the indices in it and the instant it drains.
 */
function busyPeriods(s: Scenario): { members: number[]; drainsAt: number }[] {
  const rate = s.bandwidthBytesPerS / 1e6;
  const arrivals = s.transfers
    .map((t, index) => ({ index, at: t.at + s.latencyUs, bytes: bytesFor(t.workUs, rate * 1e6) }))
    .sort((a, b) => a.at - b.at || a.index - b.index);
  const periods: { members: number[]; drainsAt: number }[] = [];
  for (const a of arrivals) {
    const last = periods[periods.length - 1];
    if (last === undefined || a.at > last.drainsAt) {
      periods.push({ members: [a.index], drainsAt: a.at + a.bytes / rate });
    } else {
      last.members.push(a.index);
      last.drainsAt += a.bytes / rate;
    }
  }
  return periods;
}

describe("Link properties", () => {
  it("never delivers early or faster than its bandwidth, accounts every byte, and spends O(n) events", () => {
    const reached: Record<"overlap" | "abortInFlight" | "zeroBytes" | "sameInstant", boolean>[] =
      [];
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const r = runScenario(s);
        const rate = s.bandwidthBytesPerS / 1e6;
        const n = s.transfers.length;
        const completed = r.outcomes.filter((o) => o.timing !== null);
        const ends = completed.map((o) => (o.timing as TransferTiming).endTime);

        for (const o of r.outcomes) {
          const spec = s.transfers[o.index] as TransferSpec;
          // Exactly one fate: completed, or aborted while in flight.
          expect(o.timing === null, `transfer ${o.index} completed and aborted`).toBe(
            o.abortedAt !== null,
          );
          if (o.timing === null) continue;
          const earliest = o.startTime + s.latencyUs + o.bytes / rate;
          expect(o.timing.startTime).toBe(o.startTime);
          expect(o.timing.bytes).toBe(o.bytes);
          expect(Number.isSafeInteger(o.timing.endTime)).toBe(true);
          expect(
            o.timing.endTime,
            `transfer ${o.index}: end ${o.timing.endTime} < start ${o.startTime} + latency ${s.latencyUs} + ${o.bytes} B / ${rate} B/µs`,
          ).toBeGreaterThanOrEqual(earliest - SLACK_US);
          if (spec.abortAfter !== null) {
            expect(o.timing.endTime).toBeLessThanOrEqual(o.startTime + spec.abortAfter);
          }
        }

        // Cumulative bytes by each completion fit in bandwidth x time some transfer was in its
        // byte phase (up to its reported end, or its abort).
        const bytePhases: [number, number][] = r.outcomes.map((o) => [
          o.startTime + s.latencyUs,
          o.timing?.endTime ?? o.abortedAt ?? -Infinity,
        ]);
        for (const c of new Set(ends)) {
          const delivered = completed
            .filter((o) => (o.timing as TransferTiming).endTime <= c)
            .reduce((sum, o) => sum + o.bytes, 0);
          const busy = unionLength(bytePhases, c);
          const capacity = rate * busy;
          expect(
            delivered,
            `by ${c}: delivered ${delivered} B > ${rate} B/µs x busy ${busy} µs = ${capacity}`,
          ).toBeLessThanOrEqual(capacity * (1 + 1e-9) + rate * SLACK_US * n);
        }

        const deliveredInOrder = r.order.reduce(
          (sum, i) => sum + (r.outcomes[i] as Outcome).bytes,
          0,
        );
        expect(r.link.totals).toEqual({
          started: n,
          completed: completed.length,
          aborted: n - completed.length,
          bytesDelivered: deliveredInOrder,
        });
        expect(r.link.activeTransfers).toBe(0);
        expect(r.sim.pendingEvents).toBe(0);

        // Same-instant completions run in start order (start order is the test's scheduling order
        // of start events: by time, then index).
        for (let k = 1; k < r.order.length; k++) {
          const a = r.outcomes[r.order[k - 1] as number] as Outcome;
          const b = r.outcomes[r.order[k] as number] as Outcome;
          const ta = a.timing as TransferTiming;
          const tb = b.timing as TransferTiming;
          expect(ta.endTime).toBeLessThanOrEqual(tb.endTime);
          if (ta.endTime === tb.endTime) {
            const startedFirst =
              a.startTime < b.startTime || (a.startTime === b.startTime && a.index < b.index);
            expect(startedFirst, `transfer ${a.index} reported before ${b.index}`).toBe(true);
          }
        }

        expect(r.linkEvents, `${r.linkEvents} link events for ${n} transfers`).toBeLessThanOrEqual(
          2 * n,
        );
        expect(r.maxLinkPending).toBeLessThanOrEqual(1);

        expect(runScenario(s).outcomes).toEqual(r.outcomes);

        reached.push({
          overlap: completed.some((a) =>
            completed.some(
              (b) =>
                a !== b &&
                a.bytes > 0 &&
                b.bytes > 0 &&
                a.startTime + s.latencyUs < (b.timing as TransferTiming).endTime &&
                b.startTime + s.latencyUs < (a.timing as TransferTiming).endTime,
            ),
          ),
          abortInFlight: completed.length < n,
          zeroBytes: completed.some((o) => o.bytes === 0),
          sameInstant: new Set(ends).size < ends.length,
        });
      }),
      propertyParams,
    );
    expectReached("link scenarios", reached, 0.1);
  });

  it("drains each busy period when a FIFO queue of the same work would, to the microsecond", () => {
    fc.assert(
      fc.property(scenarioArb, (generated) => {
        const s: Scenario = {
          ...generated,
          transfers: generated.transfers.map((t) => ({ ...t, abortAfter: null })),
        };
        const r = runScenario(s);
        for (const period of busyPeriods(s)) {
          const lastEnd = Math.max(
            ...period.members.map((i) => (r.outcomes[i]?.timing as TransferTiming).endTime),
          );
          expect(
            Math.abs(lastEnd - Math.ceil(period.drainsAt)),
            `period of ${period.members.length} drains at ${period.drainsAt}, last end ${lastEnd}`,
          ).toBeLessThanOrEqual(1);
        }
      }),
      propertyParams,
    );
  });

  it("ends a burst started together at its start + latency + ceil(total bytes / bandwidth)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 1000 }),
        bandwidthArb,
        fc.array(fc.integer({ min: 0, max: 50_000_000 }), { minLength: 1, maxLength: 50 }),
        (t, latencyUs, bandwidthBytesPerS, sizes) => {
          const sim = new Simulation();
          const link = new Link(sim, "burst", { latencyUs, bandwidthBytesPerS });
          let last = -1;
          sim.scheduleAt(t, () => {
            for (const bytes of sizes) {
              link.start(bytes, (timing) => (last = Math.max(last, timing.endTime)));
            }
          });
          // A bound far above 2n events, so that a link that loops fails fast instead of hanging.
          sim.run({ maxEvents: 10 * (sizes.length + 1) });
          const total = sizes.reduce((a, b) => a + b, 0);
          const ideal = t + latencyUs + Math.ceil((total / bandwidthBytesPerS) * 1e6);
          expect(Math.abs(last - ideal), `last ${last}, ideal ${ideal}`).toBeLessThanOrEqual(1);
          expect(sim.eventsProcessed).toBeLessThanOrEqual(1 + 2 * sizes.length);
        },
      ),
      propertyParams,
    );
  });
});
