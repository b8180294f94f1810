import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RngStreams, type Rng } from "../../sim/index.ts";
import { propertyParams } from "../support/property.ts";

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

describe("RngStreams", () => {
  test("the same seed gives the same draws", () => {
    expect(draws(new RngStreams(42).stream("arrivals"), 20)).toEqual(
      draws(new RngStreams(42).stream("arrivals"), 20),
    );
    expect(draws(new RngStreams("seed-a").stream("x"), 20)).toEqual(
      draws(new RngStreams("seed-a").stream("x"), 20),
    );
  });

  test("a different seed or a different stream name gives different draws", () => {
    const base = draws(new RngStreams(42).stream("arrivals"), 20);
    expect(draws(new RngStreams(43).stream("arrivals"), 20)).not.toEqual(base);
    expect(draws(new RngStreams(42).stream("lengths"), 20)).not.toEqual(base);
  });

  test("a numeric seed and its decimal string are the same seed", () => {
    expect(draws(new RngStreams(7).stream("s"), 5)).toEqual(
      draws(new RngStreams("7").stream("s"), 5),
    );
  });

  test("stream returns the same object for the same name, so draws continue rather than restart", () => {
    const streams = new RngStreams(1);
    const first = streams.stream("a");
    const x = first.next();
    expect(streams.stream("a")).toBe(first);
    expect(streams.stream("a").next()).not.toBe(x);
  });

  test("creating and drawing from other streams never changes a stream's draws", () => {
    const interleaving = fc.array(fc.tuple(fc.constantFrom("b", "c", "d"), fc.nat({ max: 5 })), {
      maxLength: 30,
    });
    const alone = draws(new RngStreams(99).stream("a"), 31);
    fc.assert(
      fc.property(interleaving, (steps) => {
        const streams = new RngStreams(99);
        const seen: number[] = [];
        for (const [name, count] of steps) {
          draws(streams.stream(name), count);
          seen.push(streams.stream("a").next());
        }
        seen.push(streams.stream("a").next());
        expect(seen).toEqual(alone.slice(0, seen.length));
      }),
      propertyParams,
    );
  });

  test("derive makes an independent namespace whose seed is parent seed / name", () => {
    const root = new RngStreams(5);
    const child = root.derive("prefill-0");
    expect(root.derive("prefill-0")).toBe(child);
    expect(child.seed).toBe("5/prefill-0");
    const childDraws = draws(child.stream("latency"), 10);
    expect(childDraws).toEqual(draws(new RngStreams("5/prefill-0").stream("latency"), 10));
    expect(childDraws).not.toEqual(draws(root.stream("latency"), 10));
    expect(childDraws).not.toEqual(draws(root.derive("prefill-1").stream("latency"), 10));
    const fresh = new RngStreams(5);
    expect(draws(fresh.stream("latency"), 10)).toEqual(
      draws(new RngStreams(5).stream("latency"), 10),
    );
  });

  test("drawing from a derived namespace leaves the parent's streams unchanged", () => {
    const quiet = new RngStreams(3);
    const busy = new RngStreams(3);
    draws(busy.derive("child").stream("a"), 100);
    expect(draws(busy.stream("a"), 10)).toEqual(draws(quiet.stream("a"), 10));
  });

  test("names that could make two paths share a seed are rejected", () => {
    const streams = new RngStreams(1);
    expect(() => streams.stream("")).toThrow(/non-empty/);
    expect(() => streams.stream("a/b")).toThrow(/"a\/b"/);
    expect(() => streams.derive("a#b")).toThrow(/"a#b"/);
    expect(() => new RngStreams(Number.NaN)).toThrow(/seed/);
  });
});

describe("Rng", () => {
  test("next stays in [0, 1)", () => {
    const rng = new RngStreams(11).stream("u");
    for (let i = 0; i < 10_000; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });

  test("int returns only integers in [min, max] and hits both ends", () => {
    const rng = new RngStreams(12).stream("i");
    const counts = new Map<number, number>();
    for (let i = 0; i < 5_000; i++) {
      const k = rng.int(-2, 3);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(rng.int(4, 4)).toBe(4);
  });

  test("int rejects an empty or fractional range", () => {
    const rng = new RngStreams(13).stream("i");
    expect(() => rng.int(3, 2)).toThrow(/min=3 max=2/);
    expect(() => rng.int(0.5, 2)).toThrow(/min=0.5/);
  });
});
