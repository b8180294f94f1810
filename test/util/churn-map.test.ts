import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChurnMap, ChurnSet } from "../../src/util/churn-map.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

describe("ChurnMap", () => {
  it("answers as a Map does through any number of copies", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), key: fc.nat(40), value: fc.nat() }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.nat(40) }),
    );
    fc.assert(
      // About half the deletions find their key: 8,000 operations make about 2,000 of them,
      // so every run goes through at least one copy (one per 1,024).
      fc.property(fc.array(op, { minLength: 8000, maxLength: 10000 }), (ops) => {
        const churn = new ChurnMap<number, number>();
        const model = new Map<number, number>();
        let deletions = 0;
        for (const o of ops) {
          if (o.kind === "set") {
            churn.set(o.key, o.value);
            model.set(o.key, o.value);
          } else {
            const found = model.delete(o.key);
            expect(churn.delete(o.key)).toBe(found);
            if (found) deletions += 1;
          }
          expect(churn.size).toBe(model.size);
        }
        expect(deletions).toBeGreaterThan(1024);
        for (let key = 0; key <= 40; key++) {
          expect(churn.has(key)).toBe(model.has(key));
          expect(churn.get(key)).toBe(model.get(key));
        }
      }),
      propertyParamsWithRuns(10),
    );
  });

  it("keeps its entries across the copy that a run of deletions makes", () => {
    const set = new ChurnSet<string>();
    for (let i = 0; i < 5000; i++) {
      set.add(`r${i}`);
      if (i >= 10) expect(set.delete(`r${i - 10}`)).toBe(true);
    }
    expect(set.size).toBe(10);
    expect(set.has("r4999") && set.has("r4990") && !set.has("r4989")).toBe(true);
    expect(set.delete("r4989")).toBe(false);
  });
});
