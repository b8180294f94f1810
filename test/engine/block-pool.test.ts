import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockPool, type KVCacheBlock } from "../../src/engine/block-pool.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

const ids = (blocks: readonly KVCacheBlock[]) => blocks.map((b) => b.blockId);

/** Takes `n` blocks and caches them under the hashes `hashes[0..n)`. */
function allocateCached(pool: BlockPool, hashes: number[]): KVCacheBlock[] {
  const blocks = pool.getNewBlocks(hashes.length);
  pool.cacheFullBlocks(hashes, blocks, 0, hashes.length);
  return blocks;
}

describe("BlockPool", () => {
  it("reserves block 0 as the null block, which is never handed out", () => {
    const pool = new BlockPool(4, true);
    expect(pool.nullBlock.blockId).toBe(0);
    expect(pool.nullBlock.isNull).toBe(true);
    expect(pool.getNumFreeBlocks()).toBe(3);
    expect(ids(pool.getNewBlocks(3))).toEqual([1, 2, 3]);
    expect(() => pool.getNewBlocks(1)).toThrow(/asked for 1 blocks, only 0 free/);
  });

  it("ignores the null block when freeing and never queues it", () => {
    const pool = new BlockPool(3, true);
    const [b] = pool.getNewBlocks(1);
    pool.freeBlocks([pool.nullBlock, b!]);
    expect(pool.freeBlockQueue.blockIds()).toEqual([2, 1]);
    expect(pool.nullBlock.refCnt).toBe(0);
  });

  it("reuses the least recently freed block first", () => {
    const pool = new BlockPool(5, true);
    const [a, b, c, d] = pool.getNewBlocks(4);
    pool.freeBlocks([c!]);
    pool.freeBlocks([a!]);
    pool.freeBlocks([d!]);
    pool.freeBlocks([b!]);
    expect(ids(pool.getNewBlocks(4))).toEqual(ids([c!, a!, d!, b!]));
  });

  it("drops an evicted block's hash so its content no longer hits", () => {
    const pool = new BlockPool(2, true);
    const [block] = allocateCached(pool, [111]);
    pool.freeBlocks([block!]);
    expect(pool.getCachedBlock(111)).toBe(block);
    const [reused] = pool.getNewBlocks(1);
    expect(reused).toBe(block);
    expect(reused!.blockHash).toBeNull();
    expect(pool.getCachedBlock(111)).toBeNull();
    expect(pool.getNumCachedBlocks()).toBe(0);
  });

  it("keeps a second copy of the same content cached when one copy is evicted", () => {
    const pool = new BlockPool(3, true);
    const [first] = allocateCached(pool, [7]);
    const [second] = allocateCached(pool, [7]);
    expect(pool.getNumCachedBlocks()).toBe(2);
    pool.freeBlocks([first!]);
    pool.getNewBlocks(1); // evicts `first`
    expect(pool.getCachedBlock(7)).toBe(second);
  });

  it("takes a touched evictable block out of the free queue and raises its reference count", () => {
    const pool = new BlockPool(5, true);
    const blocks = allocateCached(pool, [1, 2, 3]);
    pool.freeBlocks([...blocks].reverse());
    expect(pool.freeBlockQueue.blockIds()).toEqual([4, 3, 2, 1]);
    pool.touch([blocks[1]!]);
    expect(blocks[1]!.refCnt).toBe(1);
    expect(pool.freeBlockQueue.blockIds()).toEqual([4, 3, 1]);
    expect(pool.getNumFreeBlocks()).toBe(3);
    pool.touch([blocks[1]!]); // a second sharer: only the count moves
    expect(blocks[1]!.refCnt).toBe(2);
    expect(pool.getNumFreeBlocks()).toBe(3);
  });

  it("returns a block to the free queue only when its last reference is dropped", () => {
    const pool = new BlockPool(3, true);
    const [block] = pool.getNewBlocks(1);
    pool.touch([block!]);
    pool.freeBlocks([block!]);
    expect(pool.getNumFreeBlocks()).toBe(1);
    pool.freeBlocks([block!]);
    expect(pool.getNumFreeBlocks()).toBe(2);
    expect(() => pool.freeBlocks([block!])).toThrow(/freed with refCnt 0/);
  });

  it("does not cache or evict anything when caching is disabled", () => {
    const pool = new BlockPool(3, false);
    const [block] = pool.getNewBlocks(1);
    block!.blockHash = 5; // even a stray hash is left alone on reuse
    pool.freeBlocks([block!]);
    pool.getNewBlocks(2);
    expect(block!.blockHash).toBe(5);
  });

  it("reports kv_cache_usage_perc as 1 − free / (num_gpu_blocks − 1)", () => {
    const pool = new BlockPool(5, true);
    expect(pool.getUsage()).toBe(0);
    const blocks = pool.getNewBlocks(3);
    expect(pool.getUsage()).toBe(0.75);
    pool.freeBlocks(blocks);
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
        const held: KVCacheBlock[][] = []; // each entry: the blocks of one holder
        const everAllocated: KVCacheBlock[][] = []; // touch may pick freed (evictable) groups
        for (const o of ops) {
          if (o.kind === "allocate") {
            if (o.n > freeList.length) {
              expect(() => pool.getNewBlocks(o.n)).toThrow();
              continue;
            }
            const got = pool.getNewBlocks(o.n);
            expect(ids(got)).toEqual(freeList.slice(0, o.n));
            freeList = freeList.slice(o.n);
            for (const b of got) refs[b.blockId] = 1;
            held.push(got);
            everAllocated.push(got);
          } else if (o.kind === "free" && held.length > 0) {
            const [blocks] = held.splice(o.pick % held.length, 1);
            pool.freeBlocks(blocks!);
            for (const b of blocks!) {
              refs[b.blockId]! -= 1;
              if (refs[b.blockId] === 0) freeList.push(b.blockId);
            }
          } else if (o.kind === "touch" && everAllocated.length > 0) {
            const blocks = everAllocated[o.pick % everAllocated.length]!;
            pool.touch(blocks);
            held.push(blocks);
            for (const b of blocks) {
              if (refs[b.blockId] === 0) freeList = freeList.filter((id) => id !== b.blockId);
              refs[b.blockId]! += 1;
            }
          }
          expect(pool.freeBlockQueue.blockIds()).toEqual(freeList);
          for (const b of pool.blocks) if (!b.isNull) expect(b.refCnt).toBe(refs[b.blockId]);
          expect(pool.getUsage()).toBeCloseTo(1 - freeList.length / (n - 1), 12);
        }
      }),
      propertyParamsWithRuns(100),
    );
  });
});
