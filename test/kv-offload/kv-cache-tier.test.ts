import { describe, expect, it } from "vitest";
import { Simulation } from "../../sim/index.ts";
import { KvCacheTier } from "../../src/kv-offload/kv-cache-tier.ts";

const PATH = { latencyUs: 10, bandwidthBytesPerS: 1e9 };

function tier(capacityChunks: number): KvCacheTier {
  return new KvCacheTier(new Simulation(), {
    name: "cpu",
    capacityChunks,
    chunkTokens: 64,
    kvBytesPerToken: 1000,
    load: PATH,
    store: PATH,
  });
}

/** Stores and completes the keys at once. */
function stored(t: KvCacheTier, keys: number[]): void {
  const fresh = t.prepareStore(keys);
  expect(fresh).not.toBeNull();
  t.completeStore(fresh!);
}

describe("KvCacheTier", () => {
  it("finds a prefix only once its chunks are stored, and stops at the first gap", () => {
    const t = tier(8);
    expect(t.prepareStore([1, 2, 3])).toEqual([1, 2, 3]);
    expect(t.lookup([1, 2, 3], 0)).toBe(0); // being stored: not ready
    t.completeStore([1, 2]);
    expect(t.lookup([1, 2, 3], 0)).toBe(2);
    expect(t.lookup([1, 2, 3], 1)).toBe(1);
    expect(t.lookup([9, 1, 2], 0)).toBe(0);
  });

  it("copies only the keys it does not hold", () => {
    const t = tier(8);
    stored(t, [1, 2]);
    expect(t.prepareStore([1, 2, 3, 3])).toEqual([3]);
  });

  it("evicts the least recently used ready chunk, and a touched prefix outlives its tail", () => {
    const t = tier(3);
    stored(t, [1, 2, 3]);
    // touch marks the first key most recent: 3, then 2, then 1 are evicted in that order.
    t.touch([1, 2, 3]);
    stored(t, [4]);
    expect(t.lookup([1, 2], 0)).toBe(2);
    expect(t.lookup([3], 0)).toBe(0);
    stored(t, [5]);
    expect(t.lookup([2], 0)).toBe(0);
    expect(t.lookup([1], 0)).toBe(1);
  });

  it("never evicts a chunk being stored or loaded, and refuses the store instead", () => {
    const t = tier(2);
    stored(t, [1]);
    t.prepareStore([2]); // storing
    t.startLoad([1]); // pinned
    expect(t.prepareStore([3])).toBeNull();
    expect(t.totals.storesRefused).toBe(1);
    t.endLoad([1], 64);
    t.completeStore([2]);
    expect(t.prepareStore([3])).toEqual([3]);
    expect(t.lookup([1], 0)).toBe(0);
  });

  it("refuses to load a chunk that is not ready", () => {
    const t = tier(2);
    t.prepareStore([1]);
    expect(() => t.startLoad([1])).toThrow(/not ready/);
  });

  it("keeps stored − evicted = resident and counts loads", () => {
    const t = tier(4);
    for (let k = 0; k < 20; k++) stored(t, [k]);
    t.startLoad([19]);
    t.endLoad([19], 64);
    const totals = t.totals;
    expect(totals.storedTokens).toBe(20 * 64);
    expect(totals.evictedTokens).toBe(16 * 64);
    expect(totals.storedTokens - totals.evictedTokens).toBe(totals.residentTokens);
    expect(totals.residentTokens).toBe(t.numChunks * 64);
    expect(totals.loadedTokens).toBe(64);
  });
});
