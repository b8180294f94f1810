import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockPool } from "../../src/engine/block-pool.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

/** Takes `n` blocks from the pool and returns their ids. */
function take(pool: BlockPool, n: number): number[] {
  const ids: number[] = [];
  pool.takeNewBlockIds(n, ids);
  return ids;
}

/** Takes `n` blocks and caches them under the hashes `hashes[0..n)`. */
function allocateCached(pool: BlockPool, hashes: number[]): number[] {
  const ids = take(pool, hashes.length);
  pool.cacheFullBlockIds(hashes, 0, ids, 0, hashes.length);
  return ids;
}

const cachedId = (pool: BlockPool, hash: number) => pool.getCachedBlock(hash)?.blockId ?? null;
const refCnt = (pool: BlockPool, id: number) => pool.blocks[id]!.refCnt;

describe("BlockPool", () => {
  it("reserves block 0 as the null block, which is never handed out", () => {
    const pool = new BlockPool(4, true);
    expect(pool.nullBlock.blockId).toBe(0);
    expect(pool.nullBlock.isNull).toBe(true);
    expect(pool.getNumFreeBlocks()).toBe(3);
    expect(take(pool, 3)).toEqual([1, 2, 3]);
    expect(() => take(pool, 1)).toThrow(/asked for 1 blocks, only 0 free/);
  });

  it("appends the blocks it takes after the ids already in the list", () => {
    const pool = new BlockPool(4, true);
    const ids = [7];
    pool.takeNewBlockIds(2, ids);
    expect(ids).toEqual([7, 1, 2]);
  });

  it("ignores the null block when freeing and never queues it", () => {
    const pool = new BlockPool(3, true);
    const [b] = take(pool, 1);
    pool.freeBlockIdsTailFirst([b!, pool.nullBlock.blockId]); // the null block is freed first
    expect(pool.freeBlockQueue.blockIds()).toEqual([2, 1]);
    expect(pool.nullBlock.refCnt).toBe(0);
  });

  it("frees a list of blocks last first, so the tail of the list is evicted first", () => {
    const pool = new BlockPool(5, true);
    const ids = take(pool, 4);
    pool.freeBlockIdsTailFirst(ids);
    expect(pool.freeBlockQueue.blockIds()).toEqual([...ids].reverse());
  });

  it("reuses the least recently freed block first", () => {
    const pool = new BlockPool(5, true);
    const [a, b, c, d] = take(pool, 4);
    pool.freeBlockIdsTailFirst([c!]);
    pool.freeBlockIdsTailFirst([a!]);
    pool.freeBlockIdsTailFirst([d!]);
    pool.freeBlockIdsTailFirst([b!]);
    expect(take(pool, 4)).toEqual([c, a, d, b]);
  });

  it("drops an evicted block's hash so its content no longer hits", () => {
    const pool = new BlockPool(2, true);
    const [block] = allocateCached(pool, [111]);
    pool.freeBlockIdsTailFirst([block!]);
    expect(cachedId(pool, 111)).toBe(block);
    const [reused] = take(pool, 1);
    expect(reused).toBe(block);
    expect(pool.blocks[reused!]!.blockHash).toBeNull();
    expect(cachedId(pool, 111)).toBeNull();
    expect(pool.getNumCachedBlocks()).toBe(0);
  });

  it("keeps a second copy of the same content cached when one copy is evicted", () => {
    const pool = new BlockPool(3, true);
    const [first] = allocateCached(pool, [7]);
    const [second] = allocateCached(pool, [7]);
    expect(pool.getNumCachedBlocks()).toBe(2);
    pool.freeBlockIdsTailFirst([first!]);
    take(pool, 1); // evicts `first`
    expect(cachedId(pool, 7)).toBe(second);
  });

  it("caches only blocks [numCachedBlocks, numFullBlocks), taking hashes passed in parts", () => {
    const pool = new BlockPool(6, true);
    const ids = take(pool, 5);
    pool.cacheFullBlockIds([10, 11], 0, ids, 0, 2);
    // Blocks 2 and 3 under hashes given from index 2 on; block 4 is not full yet.
    pool.cacheFullBlockIds([12, 13, 14], 2, ids, 2, 4);
    expect([10, 11, 12, 13, 14].map((h) => cachedId(pool, h))).toEqual([
      ids[0],
      ids[1],
      ids[2],
      ids[3],
      null,
    ]);
    expect(pool.getNumCachedBlocks()).toBe(4);
  });

  it("leaves an already cached block under its first hash (a prefix-cache hit)", () => {
    const pool = new BlockPool(3, true);
    const ids = allocateCached(pool, [5]);
    pool.cacheFullBlockIds([6], 0, ids, 0, 1);
    expect([cachedId(pool, 5), cachedId(pool, 6), pool.getNumCachedBlocks()]).toEqual([
      ids[0],
      null,
      1,
    ]);
  });

  it("refuses to cache a full block it has no hash for", () => {
    const pool = new BlockPool(4, true);
    const ids = take(pool, 2);
    expect(() => pool.cacheFullBlockIds([1], 0, ids, 0, 2)).toThrow(
      "cacheFullBlocks: block 1 has no hash (1 hashes)",
    );
  });

  it("takes a touched evictable block out of the free queue and raises its reference count", () => {
    const pool = new BlockPool(5, true);
    const ids = allocateCached(pool, [1, 2, 3]);
    pool.freeBlockIdsTailFirst(ids);
    expect(pool.freeBlockQueue.blockIds()).toEqual([4, 3, 2, 1]);
    const touched = pool.blocks[ids[1]!]!;
    pool.touch([touched]);
    expect(touched.refCnt).toBe(1);
    expect(pool.freeBlockQueue.blockIds()).toEqual([4, 3, 1]);
    expect(pool.getNumFreeBlocks()).toBe(3);
    pool.touch([touched]); // a second sharer: only the count moves
    expect(touched.refCnt).toBe(2);
    expect(pool.getNumFreeBlocks()).toBe(3);
  });

  it("returns a block to the free queue only when its last reference is dropped", () => {
    const pool = new BlockPool(3, true);
    const [block] = take(pool, 1);
    pool.touch([pool.blocks[block!]!]);
    pool.freeBlockIdsTailFirst([block!]);
    expect(pool.getNumFreeBlocks()).toBe(1);
    pool.freeBlockIdsTailFirst([block!]);
    expect(pool.getNumFreeBlocks()).toBe(2);
    expect(() => pool.freeBlockIdsTailFirst([block!])).toThrow(/freed with refCnt 0/);
  });

  it("does not cache or evict anything when caching is disabled", () => {
    const pool = new BlockPool(3, false);
    const [id] = take(pool, 1);
    const block = pool.blocks[id!]!;
    block.blockHash = 5; // even a stray hash is left alone on reuse
    pool.freeBlockIdsTailFirst([id!]);
    take(pool, 2);
    expect(block.blockHash).toBe(5);
  });

  it("reports kv_cache_usage_perc as 1 − free / (num_gpu_blocks − 1)", () => {
    const pool = new BlockPool(5, true);
    expect(pool.getUsage()).toBe(0);
    const ids = take(pool, 3);
    expect(pool.getUsage()).toBe(0.75);
    pool.freeBlockIdsTailFirst(ids);
    expect(pool.getUsage()).toBe(0);
  });

  it("rejects a pool without room for the null block and one more", () => {
    expect(() => new BlockPool(1, true)).toThrow(/num_gpu_blocks must be an integer >= 2, got 1/);
  });

  it("matches an LRU list model under random allocate, touch and free sequences", () => {
    type Op =
      | { kind: "allocate"; n: number }
      | { kind: "free"; pick: number }
      | { kind: "touch"; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("allocate" as const), n: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("touch" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.array(op, { maxLength: 60 }), (n, ops) => {
        const pool = new BlockPool(n, true);
        // The model: free block ids in eviction order, and the reference count of each block.
        let freeList = Array.from({ length: n - 1 }, (_, i) => i + 1);
        const refs = new Array<number>(n).fill(0);
        const held: number[][] = []; // each entry: the block ids of one holder
        const everAllocated: number[][] = []; // touch may pick freed (evictable) groups
        for (const o of ops) {
          if (o.kind === "allocate") {
            if (o.n > freeList.length) {
              expect(() => take(pool, o.n)).toThrow();
              continue;
            }
            const got = take(pool, o.n);
            expect(got).toEqual(freeList.slice(0, o.n));
            freeList = freeList.slice(o.n);
            for (const id of got) refs[id] = 1;
            held.push(got);
            everAllocated.push(got);
          } else if (o.kind === "free" && held.length > 0) {
            const [ids] = held.splice(o.pick % held.length, 1);
            pool.freeBlockIdsTailFirst(ids!);
            for (const id of [...ids!].reverse()) {
              refs[id]! -= 1;
              if (refs[id] === 0) freeList.push(id);
            }
          } else if (o.kind === "touch" && everAllocated.length > 0) {
            const ids = everAllocated[o.pick % everAllocated.length]!;
            pool.touch(ids.map((id) => pool.blocks[id]!));
            held.push(ids);
            for (const id of ids) {
              if (refs[id] === 0) freeList = freeList.filter((f) => f !== id);
              refs[id]! += 1;
            }
          }
          expect(pool.freeBlockQueue.blockIds()).toEqual(freeList);
          for (let id = 1; id < n; id++) expect(refCnt(pool, id)).toBe(refs[id]);
          expect(pool.getUsage()).toBeCloseTo(1 - freeList.length / (n - 1), 12);
        }
      }),
      propertyParamsWithRuns(100),
    );
  });
});
