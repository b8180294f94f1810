// The physical KV-cache blocks of one instance; mirrors vllm/v1/core/block_pool.py (BlockPool,
// KVCacheBlock, FreeKVCacheBlockQueue) for a single full-attention KV-cache group, without KV
// cache events.

import type { BlockHash } from "./block-hash.ts";
import { CachedBlockIndex } from "./cached-block-index.ts";

/** What `KVCacheBlock.hash` holds while the block is not cached (hashes are never negative). */
const NOT_CACHED = -1;

export class KVCacheBlock {
  refCnt = 0;
  /**
   * The hash the block is cached under, or NOT_CACHED. A field that only ever holds numbers keeps
   * V8's unboxed double representation; holding null as well made every caching allocate.
   */
  private hash: number = NOT_CACHED;
  isNull = false;
  prevFree: KVCacheBlock | null = null;
  nextFree: KVCacheBlock | null = null;

  constructor(readonly blockId: number) {}

  /** Set once the block is full and cached; null again when the block is evicted. */
  get blockHash(): BlockHash | null {
    return this.hash === NOT_CACHED ? null : this.hash;
  }

  set blockHash(hash: BlockHash | null) {
    this.hash = hash ?? NOT_CACHED;
  }
}

/**
 * Doubly linked free list in eviction order: the head is evicted first. Freed blocks go to the
 * tail, so cached blocks age out least-recently-freed first, and a hit can pull a block out of
 * the middle in O(1).
 */
export class FreeKVCacheBlockQueue {
  private head: KVCacheBlock | null = null;
  private tail: KVCacheBlock | null = null;
  numFreeBlocks = 0;

  constructor(blocks: readonly KVCacheBlock[]) {
    for (const block of blocks) this.append(block);
  }

  popleft(): KVCacheBlock {
    const block = this.head;
    if (block === null) throw new Error("FreeKVCacheBlockQueue.popleft: no free blocks");
    this.remove(block);
    return block;
  }

  remove(block: KVCacheBlock): void {
    if (block.prevFree === null && this.head !== block) {
      throw new Error(`FreeKVCacheBlockQueue.remove: block ${block.blockId} is not free`);
    }
    if (block.prevFree) block.prevFree.nextFree = block.nextFree;
    else this.head = block.nextFree;
    if (block.nextFree) block.nextFree.prevFree = block.prevFree;
    else this.tail = block.prevFree;
    block.prevFree = null;
    block.nextFree = null;
    this.numFreeBlocks -= 1;
  }

  append(block: KVCacheBlock): void {
    block.prevFree = this.tail;
    block.nextFree = null;
    if (this.tail) this.tail.nextFree = block;
    else this.head = block;
    this.tail = block;
    this.numFreeBlocks += 1;
  }

  /** Block ids from head (next to be evicted) to tail; for tests and explanations. */
  blockIds(): number[] {
    const ids: number[] = [];
    for (let b = this.head; b !== null; b = b.nextFree) ids.push(b.blockId);
    return ids;
  }
}

export class BlockPool {
  readonly blocks: KVCacheBlock[];
  readonly freeBlockQueue: FreeKVCacheBlockQueue;
  /** Cached full blocks by hash; several blocks may hold the same content (computed concurrently). */
  private readonly cachedBlocks: CachedBlockIndex;
  /** vLLM reserves one block as the null block; it is never allocated or freed. */
  readonly nullBlock: KVCacheBlock;

  constructor(
    readonly numGpuBlocks: number,
    readonly enableCaching: boolean,
  ) {
    if (!Number.isInteger(numGpuBlocks) || numGpuBlocks < 2) {
      throw new Error(`BlockPool: num_gpu_blocks must be an integer >= 2, got ${numGpuBlocks}`);
    }
    this.blocks = Array.from({ length: numGpuBlocks }, (_, i) => new KVCacheBlock(i));
    this.cachedBlocks = new CachedBlockIndex(numGpuBlocks);
    this.freeBlockQueue = new FreeKVCacheBlockQueue(this.blocks);
    this.nullBlock = this.freeBlockQueue.popleft();
    this.nullBlock.isNull = true;
  }

  /** The earliest-cached block still cached under `blockHash`, or null. */
  getCachedBlock(blockHash: BlockHash): KVCacheBlock | null {
    const id = this.cachedBlocks.get(blockHash);
    return id < 0 ? null : this.blocks[id]!;
  }

  /** Marks `blocks[numCachedBlocks, numFullBlocks)` as cached under the request's block hashes. */
  cacheFullBlocks(
    blockHashes: readonly BlockHash[],
    blocks: readonly KVCacheBlock[],
    numCachedBlocks: number,
    numFullBlocks: number,
  ): void {
    for (let i = numCachedBlocks; i < numFullBlocks; i++) {
      const block = blocks[i]!;
      if (block.blockHash !== null) continue; // a prefix-cache hit: already cached
      const hash = blockHashes[i];
      if (hash === undefined) {
        throw new Error(
          `cacheFullBlocks: block ${i} has no hash (request has ${blockHashes.length} hashes)`,
        );
      }
      block.blockHash = hash;
      this.cachedBlocks.add(block.blockId, hash);
    }
  }

  /** Takes `n` blocks from the head of the free queue, evicting their cached content. */
  getNewBlocks(n: number): KVCacheBlock[] {
    if (n > this.freeBlockQueue.numFreeBlocks) {
      throw new Error(
        `getNewBlocks: asked for ${n} blocks, only ${this.freeBlockQueue.numFreeBlocks} free`,
      );
    }
    const result: KVCacheBlock[] = new Array<KVCacheBlock>(n);
    for (let i = 0; i < n; i++) {
      const block = this.freeBlockQueue.popleft();
      if (this.enableCaching) this.maybeEvictCachedBlock(block);
      block.refCnt = 1;
      result[i] = block;
    }
    return result;
  }

  private maybeEvictCachedBlock(block: KVCacheBlock): void {
    const hash = block.blockHash;
    if (hash === null) return;
    this.cachedBlocks.remove(block.blockId, hash);
    block.blockHash = null;
  }

  /** A prefix-cache hit: takes evictable blocks back out of the free queue and adds a reference. */
  touch(blocks: readonly KVCacheBlock[]): void {
    for (const block of blocks) {
      if (block.refCnt === 0 && !block.isNull) this.freeBlockQueue.remove(block);
      block.refCnt += 1;
    }
  }

  /** Drops one reference from each block, in the given order; unreferenced blocks become free. */
  freeBlocks(orderedBlocks: Iterable<KVCacheBlock>): void {
    for (const block of orderedBlocks) this.release(block);
  }

  /** `freeBlocks` of the blocks in reverse order, without building the reversed list. */
  freeBlocksTailFirst(blocks: readonly KVCacheBlock[]): void {
    for (let i = blocks.length - 1; i >= 0; i--) this.release(blocks[i]!);
  }

  private release(block: KVCacheBlock): void {
    if (block.isNull) return;
    if (block.refCnt <= 0) {
      throw new Error(`freeBlocks: block ${block.blockId} freed with refCnt ${block.refCnt}`);
    }
    block.refCnt -= 1;
    if (block.refCnt === 0) this.freeBlockQueue.append(block);
  }

  getNumFreeBlocks(): number {
    return this.freeBlockQueue.numFreeBlocks;
  }

  /** Number of blocks currently holding cached content (free or in use). */
  getNumCachedBlocks(): number {
    return this.cachedBlocks.size;
  }

  /** `vllm:kv_cache_usage_perc`: the null block counts as neither used nor available. */
  getUsage(): number {
    const totalGpuBlocks = this.numGpuBlocks - 1;
    if (totalGpuBlocks <= 0) return 0;
    return 1 - this.getNumFreeBlocks() / totalGpuBlocks;
  }
}
