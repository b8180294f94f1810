import { describe, expect, it } from "vitest";
import { Simulation } from "../../sim/index.ts";
import {
  Link,
  type LinkConfig,
  type LinkTransfer,
  type TransferTiming,
} from "../../src/kv-transfer/link.ts";

/** 1 byte per microsecond after 100 µs, so that hand-computed times are easy to read. */
const oneBytePerUs: LinkConfig = { latencyUs: 100, bandwidthBytesPerS: 1e6 };

/** A link on a fresh kernel, with transfers started and aborted by label at given times. */
function harness(config: LinkConfig = oneBytePerUs) {
  const sim = new Simulation();
  const link = new Link(sim, "prefill-0->decode-0", config);
  const transfers = new Map<string, LinkTransfer>();
  const done: { label: string; timing: TransferTiming }[] = [];
  const transfer = (label: string): LinkTransfer => {
    const t = transfers.get(label);
    if (t === undefined) throw new Error(`no transfer labelled ${label}`);
    return t;
  };
  const startAt = (time: number, label: string, bytes: number): void => {
    sim.scheduleAt(time, () => {
      transfers.set(
        label,
        link.start(bytes, (timing) => done.push({ label, timing })),
      );
    });
  };
  const abortAt = (time: number, label: string): void => {
    sim.scheduleAt(time, () => link.abort(transfer(label)));
  };
  const ends = (): Record<string, number> =>
    Object.fromEntries(done.map((d) => [d.label, d.timing.endTime]));
  return { sim, link, done, startAt, abortAt, ends };
}

describe("Link", () => {
  it("delivers a lone transfer after the latency plus its bytes over the bandwidth, rounded up to a microsecond", () => {
    const h = harness({ latencyUs: 100, bandwidthBytesPerS: 3e6 });
    h.startAt(50, "fractional", 1000); // 333.33 µs of bytes
    h.startAt(10_000, "exact", 3000); // exactly 1000 µs of bytes
    h.sim.run();
    expect(h.done.map((d) => d.timing)).toEqual([
      { startTime: 50, endTime: 50 + 100 + 334, bytes: 1000 },
      { startTime: 10_000, endTime: 10_000 + 100 + 1000, bytes: 3000 },
    ]);
  });

  it("ends two equal transfers started together at the latency plus twice their bytes over the bandwidth", () => {
    const h = harness();
    h.startAt(0, "a", 1000);
    h.startAt(0, "b", 1000);
    h.sim.run();
    expect(h.ends()).toEqual({ a: 100 + 2000, b: 100 + 2000 });
  });

  it("slows a long transfer down by exactly the bytes of a short one that joins it, as processor sharing predicts", () => {
    // long: bytes from 100; by 500 it has 400 of 3000. short: bytes from 500, 500 of them at
    // 0.5 B/µs -> ends 1500, while long gets 500 more (2100 left) -> alone again, ends 3600.
    const h = harness();
    h.startAt(0, "long", 3000);
    h.startAt(400, "short", 500);
    h.sim.run();
    expect(h.ends()).toEqual({ short: 1500, long: 3600 });
  });

  it("splits the bandwidth three ways and back as transfers arrive and leave", () => {
    // 3 B/µs, no latency. 0..100: a alone, 2700 left. 100..200: a and b at 1.5 B/µs, a 2550 and
    // b 450 left. From 200 all three at 1 B/µs: c ends at 300, leaving a 2450 and b 350. Two at
    // 1.5 B/µs: b ends at 533.33 -> 534; a has 2100 left, alone at 3 B/µs: 1233.33 -> 1234.
    const h = harness({ latencyUs: 0, bandwidthBytesPerS: 3e6 });
    h.startAt(0, "a", 3000);
    h.startAt(100, "b", 600);
    h.startAt(200, "c", 100);
    h.sim.run();
    expect(h.ends()).toEqual({ c: 300, b: 534, a: 1234 });
  });

  it("does not charge the others for the microsecond a finished transfer is rounded up to", () => {
    // 10 B/µs: the 1-byte transfer is through at 0.2 µs (reported at 1); the other has all the
    // bandwidth from then on, so it ends at ceil(1009 / 10) = 101, not 102.
    const h = harness({ latencyUs: 0, bandwidthBytesPerS: 1e7 });
    h.startAt(0, "tiny", 1);
    h.startAt(0, "big", 1008);
    h.sim.run();
    expect(h.ends()).toEqual({ tiny: 1, big: 101 });
  });

  it("speeds the other transfers up at once when one in its byte phase is aborted", () => {
    // Both share from 100 at 0.5 B/µs; by 600 each has 250, so a has 1750 left alone -> 2350.
    const h = harness();
    h.startAt(0, "a", 2000);
    h.startAt(0, "b", 2000);
    h.abortAt(600, "b");
    h.sim.run();
    expect(h.ends()).toEqual({ a: 2350 });
    expect(h.link.totals).toEqual({ started: 2, completed: 1, aborted: 1, bytesDelivered: 2000 });
  });

  it("leaves the others untouched when a transfer is aborted in its latency phase", () => {
    const h = harness();
    h.startAt(0, "a", 1000);
    h.startAt(0, "b", 1000);
    h.abortAt(50, "b");
    h.sim.run();
    expect(h.ends()).toEqual({ a: 1100 });
  });

  it("ignores an abort of a transfer that already finished or was already aborted", () => {
    const h = harness();
    h.startAt(0, "a", 1000);
    h.startAt(0, "b", 5000);
    h.abortAt(3000, "a"); // finished at 2100
    h.abortAt(3000, "b");
    h.abortAt(4000, "b");
    h.sim.run();
    expect(h.ends()).toEqual({ a: 2100 });
    expect(h.link.totals).toEqual({ started: 2, completed: 1, aborted: 1, bytesDelivered: 1000 });
    expect(h.link.activeTransfers).toBe(0);
    expect(h.sim.pendingEvents).toBe(0);
  });

  it("refuses to abort a transfer started on another link", () => {
    const sim = new Simulation();
    const one = new Link(sim, "one", oneBytePerUs);
    const other = new Link(sim, "other", oneBytePerUs);
    const transfer = one.start(10, () => {});
    expect(() => other.abort(transfer)).toThrow(/other: transfer 0 was not started on this link/);
  });

  it("completes a zero-byte transfer after the latency alone, without slowing the others", () => {
    const h = harness();
    h.startAt(0, "a", 1000);
    h.startAt(300, "empty", 0);
    h.sim.run();
    expect(h.done.map((d) => d.timing)).toEqual([
      { startTime: 300, endTime: 400, bytes: 0 },
      { startTime: 0, endTime: 1100, bytes: 1000 },
    ]);
  });

  it("calls onDone in start order for transfers that complete at the same instant", () => {
    // No latency, 1 B/µs. first: 200 of 300 bytes by 200; second (100 B) joins; both have 100
    // left at 0.5 B/µs and end at 400. third is a zero-byte transfer started at 400.
    const h = harness({ latencyUs: 0, bandwidthBytesPerS: 1e6 });
    h.startAt(0, "first", 300);
    h.startAt(200, "second", 100);
    h.startAt(400, "third", 0);
    h.sim.run();
    expect(h.done.map((d) => [d.label, d.timing.endTime])).toEqual([
      ["first", 400],
      ["second", 400],
      ["third", 400],
    ]);
  });

  it("completes transfers that tie only up to float noise in the same event", () => {
    // 0.3 B/µs, not a binary fraction. a runs alone for 1 µs, shares with c for 1 µs, so at 2 it
    // has 1000 - 0.3 - 0.15 = 999.55 left (999.5500000000001 in floats), exactly b's size: the
    // two then end together at 2 + 2 * 999.55 / 0.3 = 6665.67 -> 6666.
    const h = harness({ latencyUs: 0, bandwidthBytesPerS: 3e5 });
    h.startAt(0, "a", 1000);
    h.startAt(1, "c", 500);
    h.abortAt(2, "c");
    h.startAt(2, "b", 999.55);
    h.sim.run();
    expect(h.ends()).toEqual({ a: 6666, b: 6666 });
    // 4 test events, 3 latency ends, 1 completion.
    expect(h.sim.eventsProcessed).toBe(4 + 3 + 1);
  });

  it("does not push a transfer due at an exact microsecond to the next one because of float noise", () => {
    // 700 / 0.7 evaluates to 1000.0000000000001.
    const h = harness({ latencyUs: 0, bandwidthBytesPerS: 7e5 });
    h.startAt(0, "a", 700);
    h.sim.run();
    expect(h.ends()).toEqual({ a: 1000 });
  });

  it("counts transfers in the latency and byte phases as active until their onDone", () => {
    // a sends alone 100..150 (950 left), then both at 0.5 B/µs: a ends 2050, b 2100.
    const h = harness();
    const seen: number[] = [];
    h.startAt(0, "a", 1000);
    h.startAt(50, "b", 1000);
    // At 120, a is in its byte phase and b in its latency phase.
    for (const t of [0, 120, 2075, 2200])
      h.sim.scheduleAt(t, () => seen.push(h.link.activeTransfers));
    h.sim.run();
    expect(seen).toEqual([1, 2, 1, 0]);
  });

  it("keeps one kernel event pending for a burst and spends a number of events linear in its size", () => {
    const sim = new Simulation();
    const link = new Link(sim, "burst", { latencyUs: 10, bandwidthBytesPerS: 7e9 });
    const n = 1000;
    let completed = 0;
    for (let i = 0; i < n; i++) link.start(1000 + 37 * i, () => completed++);
    expect(sim.pendingEvents).toBe(1);
    sim.run();
    expect(completed).toBe(n);
    // One latency end for the whole burst, then one completion per distinct size.
    expect(sim.eventsProcessed).toBeLessThanOrEqual(n + 1);
  });

  it("gives the same times to the same calls", () => {
    const run = () => {
      const h = harness({ latencyUs: 7, bandwidthBytesPerS: 1.3e9 });
      for (let i = 0; i < 20; i++) h.startAt((i * 7919) % 500, `t${i}`, (i * 104_729) % 90_000);
      h.abortAt(300, "t3");
      h.sim.run();
      return h.done;
    };
    expect(run()).toEqual(run());
  });

  it("rejects a negative or non-finite byte count and a malformed config, naming the value", () => {
    const sim = new Simulation();
    const link = new Link(sim, "l", oneBytePerUs);
    expect(() => link.start(-1, () => {})).toThrow(/Link l: bytes must be .* got -1/);
    expect(() => link.start(NaN, () => {})).toThrow(/got NaN/);
    expect(() => new Link(sim, "l", { latencyUs: 1.5, bandwidthBytesPerS: 1 })).toThrow(
      /latencyUs .* got 1.5/,
    );
    expect(() => new Link(sim, "l", { latencyUs: 0, bandwidthBytesPerS: 0 })).toThrow(
      /bandwidthBytesPerS .* got 0/,
    );
  });
});
