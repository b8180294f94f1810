// The lists a step usually leaves empty share one array until their first entry: appending to
// it must never write it, or every later step would see the entry. Every teaching scenario is
// run (preemptions, failed loads, lease expiries, chunked prefills), then the shared array and
// the shared no-lookups stats are checked to be untouched.
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import { type AppendOnly, append, nothing, sharedEmptyListIsEmpty } from "../../src/util/lists.ts";
import { NO_PREFIX_CACHE_LOOKUPS, PrefixCacheStats } from "../../src/engine/stats.ts";
import { PROFILE_LIST } from "../../src/accounting/profiles.ts";
import { loadScenario } from "../../src/scenario/index.ts";

describe("shared empty lists", () => {
  it("become a fresh list at the first entry and grow in place after it", () => {
    const empty = nothing<number>();
    const one = append(empty, 1);
    expect(one).not.toBe(empty);
    expect(append(one, 2)).toBe(one);
    expect([empty, one, nothing<number>()]).toEqual([[], [1, 2], []]);
    expect(sharedEmptyListIsEmpty()).toBe(true);
  });

  it("cannot be written but through append, nor append to a list nothing() did not start (typecheck)", () => {
    // Never called: the typecheck fails if either write compiles.
    const strayWrites = (list: AppendOnly<number>, other: readonly number[]) => {
      // @ts-expect-error a shared empty list is read-only
      list.push(1);
      // @ts-expect-error append grows only lists that nothing() started
      append(other, 1);
    };
    expect(strayWrites).toBeTypeOf("function");
  });

  // The Mooncake replays (12,000-token prompts, a million blocks) take seconds each under every
  // profile and reach no list the other scenarios do not: sessions and a CSV trace stay.
  const files = fs
    .readdirSync("scenarios")
    .filter((f) => f.endsWith(".yaml") && !f.startsWith("mooncake-"))
    .map((f) => `scenarios/${f}`);

  it.each(files)("stay empty and the no-lookups stats stay zero after %s", (file) => {
    const scenario = loadScenario(file);
    const cluster = new Cluster(scenario, scenario.seed, {}, PROFILE_LIST);
    expect(cluster.run().requestsFinished).toBeGreaterThan(0);
    expect(sharedEmptyListIsEmpty()).toBe(true);
    expect({ ...NO_PREFIX_CACHE_LOOKUPS }).toEqual({ ...new PrefixCacheStats() });
  });
});
