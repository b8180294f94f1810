// The prefix cache's hash → block index: the earliest block cached under a hash wins, hashes
// that share a slot stay apart, and removal keeps the rest in order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CachedBlockIndex } from "../../src/engine/cached-block-index.ts";
import { propertyParams } from "../support/property.ts";

describe("CachedBlockIndex", () => {
  it("keeps hashes that share a slot apart, and the earliest block of one hash first", () => {
    const index = new CachedBlockIndex(8); // 16 slots
    const a = 5;
    const b = 5 + 16 * 2 ** 32; // same low bits, another hash
    index.add(3, a);
    index.add(1, b);
    index.add(6, a);
    expect([index.get(a), index.get(b), index.get(7), index.size]).toEqual([3, 1, -1, 3]);
    index.remove(3, a);
    expect([index.get(a), index.get(b), index.size]).toEqual([6, 1, 2]);
    index.remove(1, b);
    index.remove(6, a);
    expect([index.get(a), index.get(b), index.size]).toEqual([-1, -1, 0]);
    expect(() => index.remove(6, a)).toThrow("block 6 is not cached");
  });

  it("answers as a map from hash to its blocks in insertion order would", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        id: fc.nat({ max: 15 }),
        hash: fc.nat({ max: 40 }),
      }),
      fc.record({ kind: fc.constant("remove" as const), id: fc.nat({ max: 15 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new CachedBlockIndex(16);
        const model = new Map<number, number[]>(); // hash → ids, oldest first
        const cachedAs = new Map<number, number>(); // id → hash
        for (const o of ops) {
          if (o.kind === "add") {
            if (cachedAs.has(o.id)) continue;
            // Spread the hashes over 53 bits so that slots collide too.
            const hash = o.hash * 2 ** 33 + (o.hash % 3);
            index.add(o.id, hash);
            cachedAs.set(o.id, hash);
            model.set(hash, [...(model.get(hash) ?? []), o.id]);
          } else {
            const hash = cachedAs.get(o.id);
            if (hash === undefined) continue;
            index.remove(o.id, hash);
            cachedAs.delete(o.id);
            model.set(
              hash,
              model.get(hash)!.filter((id) => id !== o.id),
            );
          }
          for (const [hash, ids] of model) expect(index.get(hash)).toBe(ids[0] ?? -1);
          expect(index.size).toBe(cachedAs.size);
        }
      }),
      propertyParams,
    );
  });
});
