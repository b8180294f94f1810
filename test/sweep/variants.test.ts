import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sweepFileSchema } from "../../src/sweep/sweep-schema.ts";
import {
  applyVariant,
  draw,
  expandVariants,
  KeyPathError,
  splitPath,
} from "../../src/sweep/variants.ts";
import { canonicalJson, runKey } from "../../src/sweep/run-spec.ts";

const sweep = (fields: Record<string, unknown>) =>
  sweepFileSchema.parse({ scenario: "s.yaml", ...fields });

const base = {
  engine: { block_size: 16 },
  instances: [
    { name: "prefill-0", role: "prefill" },
    { name: "decode-0", role: "decode", engine: { max_num_seqs: 8 } },
    { name: "decode-1", role: "decode" },
  ],
};

describe("variants of a grid", () => {
  it("takes every combination, the first key varying slowest", () => {
    const variants = expandVariants(sweep({ grid: { a: [1, 2], b: ["x", "y", "z"] } }));
    expect(variants).toEqual([
      { a: 1, b: "x" },
      { a: 1, b: "y" },
      { a: 1, b: "z" },
      { a: 2, b: "x" },
      { a: 2, b: "y" },
      { a: 2, b: "z" },
    ]);
  });

  it("is the base scenario alone without a grid or draws", () => {
    expect(expandVariants(sweep({}))).toEqual([{}]);
  });
});

describe("random draws", () => {
  const ranges = {
    "engine.num_gpu_blocks": { min: 1024, max: 65536, scale: "log", integer: true },
    "kv_transfer.faults.load_failure_probability": { min: 0, max: 0.2 },
    "proxy.decode_policy": { choices: ["round_robin", "prefix_aware"] },
  };

  it("draws the same variants from the same seed, each within its range", () => {
    const a = expandVariants(sweep({ random: { draws: 200, seed: 7, ranges } }));
    expect(expandVariants(sweep({ random: { draws: 200, seed: 7, ranges } }))).toEqual(a);
    expect(expandVariants(sweep({ random: { draws: 200, seed: 8, ranges } }))).not.toEqual(a);
    for (const v of a) {
      const blocks = v["engine.num_gpu_blocks"] as number;
      expect(Number.isInteger(blocks) && blocks >= 1024 && blocks <= 65536).toBe(true);
      const p = v["kv_transfer.faults.load_failure_probability"] as number;
      expect(p >= 0 && p <= 0.2).toBe(true);
    }
    // A log scale puts as many draws below the geometric middle (8,192) as above it.
    const below = a.filter((v) => (v["engine.num_gpu_blocks"] as number) < 8192).length;
    expect(below).toBeGreaterThan(70);
    expect(below).toBeLessThan(130);
    expect(new Set(a.map((v) => v["proxy.decode_policy"]))).toEqual(
      new Set(["round_robin", "prefix_aware"]),
    );
  });

  it("keeps every draw in range, both ends included for integers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (min, span, u) => {
          const x = draw({ min, max: min + span, scale: "linear", integer: true }, u) as number;
          expect(Number.isInteger(x) && x >= min && x <= min + span).toBe(true);
        },
      ),
    );
    expect(draw({ min: 1, max: 3, scale: "linear", integer: true }, 0.999)).toBe(3);
    expect(draw({ min: 1, max: 3, scale: "linear", integer: true }, 0)).toBe(1);
  });
});

describe("key paths into the scenario", () => {
  it("sets a value, creating the sections the scenario left to its defaults", () => {
    const v = applyVariant(base, { "engine.num_gpu_blocks": 4, "gpu.preset": "h200" });
    expect(v.engine).toEqual({ block_size: 16, num_gpu_blocks: 4 });
    expect(v.gpu).toEqual({ preset: "h200" });
    expect(base.engine).toEqual({ block_size: 16 }); // the base is not touched
  });

  it("addresses an instance by index or by name", () => {
    const byIndex = applyVariant(base, { "instances[1].engine.max_num_seqs": 2 });
    const byName = applyVariant(base, { "instances.decode-0.engine.max_num_seqs": 2 });
    expect(byName).toEqual(byIndex);
    expect(splitPath("instances[1].engine.max_num_seqs")).toEqual(
      splitPath("instances.1.engine.max_num_seqs"),
    );
    expect(() => applyVariant(base, { "instances[5].role": "decode" })).toThrow(
      "'instances[5].role': instances has 3 items, so no [5]",
    );
  });

  it("refuses a path through an object's prototype", () => {
    expect(() => applyVariant(base, { "__proto__.polluted": 1 })).toThrow(
      "'__proto__.polluted': '__proto__' is not a key a scenario has",
    );
    expect(() => applyVariant(base, { "engine.constructor.prototype.x": 1 })).toThrow(KeyPathError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("copies the first instance of a role for replicas.ROLE", () => {
    const v = applyVariant(base, { "replicas.decode": 3 });
    expect(v.instances).toEqual([
      { name: "prefill-0", role: "prefill" },
      { name: "decode-0", role: "decode", engine: { max_num_seqs: 8 } },
      { name: "decode-1", role: "decode", engine: { max_num_seqs: 8 } },
      { name: "decode-2", role: "decode", engine: { max_num_seqs: 8 } },
    ]);
    expect(() => applyVariant(base, { "replicas.unified": 2 })).toThrow(KeyPathError);
    expect(() => applyVariant(base, { "replicas.decode": 0 })).toThrow(
      "expected a number of instances of at least 1",
    );
  });
});

describe("run keys", () => {
  it("do not depend on the order of a mapping's keys, and do on every value", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(runKey({ x: 1, y: 2 })).toBe(runKey({ y: 2, x: 1 }));
    expect(runKey({ x: 1, y: 2 })).not.toBe(runKey({ x: 1, y: 3 }));
  });
});
