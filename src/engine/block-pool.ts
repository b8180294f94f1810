// The physical KV-cache blocks of one instance; mirrors vllm/v1/core/block_pool.py (BlockPool,
// KVCacheBlock, FreeKVCacheBlockQueue) for a single full-attention KV-cache group, without KV
// cache events.

import type { BlockHash } from "./block-hash.ts";
import { BlockTable, NO_BLOCK, NOT_CACHED } from "./block-table.ts";
import { CachedBlockIndex } from "./cached-block-index.ts";

// Module-private copies, which hot code reads as constants rather than through the import.
const NONE = NO_BLOCK;
const UNCACHED = NOT_CACHED;
const NULL_BLOCK_ID = 0;

/** One block of a pool: its id, and its state as a view onto the pool's block table. */
export class KVCacheBlock {
  constructor(
    readonly blockId: number,
    private readonly table: BlockTable,
    /** vLLM's null block: never allocated, freed or cached. */
    readonly isNull: boolean = false,
  ) {}

  get refCnt(): number {
    return this.table.refCnt(this.blockId);
  }

  set refCnt(refCnt: number) {
    this.table.setRefCnt(this.blockId, refCnt);
  }

  /** Set once the block is full and cached; null again when the block is evicted. */
  get blockHash(): BlockHash | null {
    const hash = this.table.hash(this.blockId);
    return hash === UNCACHED ? null : hash;
  }

  set blockHash(hash: BlockHash | null) {
    this.table.setHash(this.blockId, hash ?? UNCACHED);
  }
}

/**
 * Doubly linked free list in eviction order: the head is evicted first. Freed blocks go to the
 * tail, so cached blocks age out least-recently-freed first, and a hit can pull a block out of
 * the middle in O(1). The links live in the pool's block table.
 */
export class FreeKVCacheBlockQueue {
  private head = NONE;
  private tail = NONE;
  numFreeBlocks = 0;

  constructor(
    numBlocks: number,
    private readonly table: BlockTable,
  ) {
    for (let id = 0; id < numBlocks; id++) this.appendId(id);
  }

  /** vLLM's `popleft`, by id: the block object itself is not read. */
  popleftId(): number {
    const id = this.head;
    if (id === NONE) throw new Error("FreeKVCacheBlockQueue.popleft: no free blocks");
    this.removeId(id);
    return id;
  }

  /** vLLM's `remove`, by id. */
  removeId(id: number): void {
    const table = this.table;
    const prev = table.prevFree(id);
    const next = table.nextFree(id);
    if (prev === NONE && this.head !== id) {
      throw new Error(`FreeKVCacheBlockQueue.remove: block ${id} is not free`);
    }
    if (prev !== NONE) table.setNextFree(prev, next);
    else this.head = next;
    if (next !== NONE) table.setPrevFree(next, prev);
    else this.tail = prev;
    table.setPrevFree(id, NONE);
    table.setNextFree(id, NONE);
    this.numFreeBlocks -= 1;
  }

  /** vLLM's `append`, by id. */
  appendId(id: number): void {
    const table = this.table;
    table.setPrevFree(id, this.tail);
    table.setNextFree(id, NONE);
    if (this.tail !== NONE) table.setNextFree(this.tail, id);
    else this.head = id;
    this.tail = id;
    this.numFreeBlocks += 1;
  }

  /** Block ids from head (next to be evicted) to tail; for tests and explanations. */
  blockIds(): number[] {
    const ids: number[] = [];
    for (let id = this.head; id !== NONE; id = this.table.nextFree(id)) ids.push(id);
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
  private readonly table: BlockTable;

  constructor(
    readonly numGpuBlocks: number,
    readonly enableCaching: boolean,
  ) {
    if (!Number.isInteger(numGpuBlocks) || numGpuBlocks < 2) {
      throw new Error(`BlockPool: num_gpu_blocks must be an integer >= 2, got ${numGpuBlocks}`);
    }
    const table = new BlockTable(numGpuBlocks);
    this.table = table;
    // The queue starts in id order, so the block popped for the null block is block 0.
    this.blocks = Array.from(
      { length: numGpuBlocks },
      (_, i) => new KVCacheBlock(i, table, i === NULL_BLOCK_ID),
    );
    this.cachedBlocks = new CachedBlockIndex(numGpuBlocks, table);
    this.freeBlockQueue = new FreeKVCacheBlockQueue(numGpuBlocks, table);
    this.nullBlock = this.blocks[this.freeBlockQueue.popleftId()]!;
  }

  /** The earliest-cached block still cached under `blockHash`, or null. */
  getCachedBlock(blockHash: BlockHash): KVCacheBlock | null {
    const id = this.cachedBlocks.get(blockHash);
    return id < 0 ? null : this.blocks[id]!;
  }

  /**
   * vLLM's `cache_full_blocks`, by id: marks `blockIds[numCachedBlocks, numFullBlocks)` as cached,
   * block `i` under `blockHashes[i - firstHashIndex]`, so a request's hashes can be passed in parts.
   */
  cacheFullBlockIds(
    blockHashes: readonly BlockHash[],
    firstHashIndex: number,
    blockIds: readonly number[],
    numCachedBlocks: number,
    numFullBlocks: number,
  ): void {
    for (let i = numCachedBlocks; i < numFullBlocks; i++) {
      const id = blockIds[i]!;
      if (this.table.hash(id) !== UNCACHED) continue; // a prefix-cache hit: already cached
      const hash = blockHashes[i - firstHashIndex];
      if (hash === undefined) {
        throw new Error(
          `cacheFullBlocks: block ${i} has no hash (${firstHashIndex + blockHashes.length} hashes)`,
        );
      }
      this.cachedBlocks.add(id, hash);
    }
  }

  /**
   * vLLM's `get_new_blocks`, by id: takes `n` blocks from the head of the free queue, evicting
   * their cached content, and appends their ids to `out`.
   */
  takeNewBlockIds(n: number, out: number[]): void {
    if (n > this.freeBlockQueue.numFreeBlocks) {
      throw new Error(
        `getNewBlocks: asked for ${n} blocks, only ${this.freeBlockQueue.numFreeBlocks} free`,
      );
    }
    for (let i = 0; i < n; i++) {
      const id = this.freeBlockQueue.popleftId();
      if (this.enableCaching) this.maybeEvictCachedBlock(id);
      this.table.setRefCnt(id, 1);
      out.push(id);
    }
  }

  private maybeEvictCachedBlock(id: number): void {
    const hash = this.table.hash(id);
    if (hash !== UNCACHED) this.cachedBlocks.remove(id, hash);
  }

  /** A prefix-cache hit: takes evictable blocks back out of the free queue and adds a reference. */
  touch(blocks: readonly KVCacheBlock[]): void {
    const table = this.table;
    for (const block of blocks) {
      const id = block.blockId;
      const refCnt = table.refCnt(id);
      if (refCnt === 0 && id !== NULL_BLOCK_ID) this.freeBlockQueue.removeId(id);
      table.setRefCnt(id, refCnt + 1);
    }
  }

  /**
   * vLLM's `free_blocks(reversed(blocks))`, by id: drops one reference from each block, last
   * first, without building the reversed list; unreferenced blocks go to the free queue's tail.
   */
  freeBlockIdsTailFirst(blockIds: readonly number[]): void {
    for (let i = blockIds.length - 1; i >= 0; i--) this.releaseId(blockIds[i]!);
  }

  private releaseId(id: number): void {
    if (id === NULL_BLOCK_ID) return;
    const refCnt = this.table.refCnt(id);
    if (refCnt <= 0) throw new Error(`freeBlocks: block ${id} freed with refCnt ${refCnt}`);
    this.table.setRefCnt(id, refCnt - 1);
    if (refCnt === 1) this.freeBlockQueue.appendId(id);
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
