// The physical KV-cache blocks of one instance; mirrors vllm/v1/core/block_pool.py (BlockPool,
// KVCacheBlock, FreeKVCacheBlockQueue) for a single full-attention KV-cache group, without KV
// cache events.

import type { BlockHash } from "./block-hash.ts";
import { CachedBlockIndex } from "./cached-block-index.ts";

/** A block's entry in `BlockHashes` while it is not cached (hashes are never negative). */
const NOT_CACHED = -1;
const NONE = -1;

/**
 * The hash each block of a pool is cached under, by block id. Kept in one typed array rather
 * than on the blocks: V8 boxes a number field, so reading a block's hash cost a second memory
 * access, and caching or evicting a block touched two scattered objects.
 */
type BlockHashes = Float64Array;

export class KVCacheBlock {
  refCnt = 0;
  isNull = false;

  constructor(
    readonly blockId: number,
    private readonly hashes: BlockHashes,
  ) {}

  /** Set once the block is full and cached; null again when the block is evicted. */
  get blockHash(): BlockHash | null {
    const hash = this.hashes[this.blockId]!;
    return hash === NOT_CACHED ? null : hash;
  }

  set blockHash(hash: BlockHash | null) {
    this.hashes[this.blockId] = hash ?? NOT_CACHED;
  }
}

/**
 * Doubly linked free list in eviction order: the head is evicted first. Freed blocks go to the
 * tail, so cached blocks age out least-recently-freed first, and a hit can pull a block out of
 * the middle in O(1). The links are typed arrays indexed by block id, so popping a block reads
 * nothing but this queue.
 */
export class FreeKVCacheBlockQueue {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  numFreeBlocks = 0;

  constructor(private readonly blocks: readonly KVCacheBlock[]) {
    this.prev = new Int32Array(blocks.length).fill(NONE);
    this.next = new Int32Array(blocks.length).fill(NONE);
    for (const block of blocks) this.append(block);
  }

  popleft(): KVCacheBlock {
    if (this.head === NONE) throw new Error("FreeKVCacheBlockQueue.popleft: no free blocks");
    const block = this.blocks[this.head]!;
    this.remove(block);
    return block;
  }

  remove(block: KVCacheBlock): void {
    const id = block.blockId;
    const prev = this.prev[id]!;
    const next = this.next[id]!;
    if (prev === NONE && this.head !== id) {
      throw new Error(`FreeKVCacheBlockQueue.remove: block ${id} is not free`);
    }
    if (prev !== NONE) this.next[prev] = next;
    else this.head = next;
    if (next !== NONE) this.prev[next] = prev;
    else this.tail = prev;
    this.prev[id] = NONE;
    this.next[id] = NONE;
    this.numFreeBlocks -= 1;
  }

  append(block: KVCacheBlock): void {
    const id = block.blockId;
    this.prev[id] = this.tail;
    this.next[id] = NONE;
    if (this.tail !== NONE) this.next[this.tail] = id;
    else this.head = id;
    this.tail = id;
    this.numFreeBlocks += 1;
  }

  /** Block ids from head (next to be evicted) to tail; for tests and explanations. */
  blockIds(): number[] {
    const ids: number[] = [];
    for (let id = this.head; id !== NONE; id = this.next[id]!) ids.push(id);
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
  private readonly hashes: BlockHashes;

  constructor(
    readonly numGpuBlocks: number,
    readonly enableCaching: boolean,
  ) {
    if (!Number.isInteger(numGpuBlocks) || numGpuBlocks < 2) {
      throw new Error(`BlockPool: num_gpu_blocks must be an integer >= 2, got ${numGpuBlocks}`);
    }
    this.hashes = new Float64Array(numGpuBlocks).fill(NOT_CACHED);
    this.blocks = Array.from({ length: numGpuBlocks }, (_, i) => new KVCacheBlock(i, this.hashes));
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
      const id = blocks[i]!.blockId;
      if (this.hashes[id] !== NOT_CACHED) continue; // a prefix-cache hit: already cached
      const hash = blockHashes[i];
      if (hash === undefined) {
        throw new Error(
          `cacheFullBlocks: block ${i} has no hash (request has ${blockHashes.length} hashes)`,
        );
      }
      this.hashes[id] = hash;
      this.cachedBlocks.add(id, hash);
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
    const id = block.blockId;
    const hash = this.hashes[id]!;
    if (hash === NOT_CACHED) return;
    this.cachedBlocks.remove(id, hash);
    this.hashes[id] = NOT_CACHED;
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
