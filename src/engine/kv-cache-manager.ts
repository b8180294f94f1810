// Per-request KV-block bookkeeping over the block pool; mirrors vllm/v1/core/kv_cache_manager.py
// (KVCacheManager) and the full-attention single-type manager, without sliding windows, hybrid
// groups, lookahead slots or a watermark.

import { nothing } from "../util/lists.ts";
import { BlockPool, type KVCacheBlock } from "./block-pool.ts";
import type { Prompt } from "./prompt.ts";
import type { Request } from "./request.ts";
import type { RequestBlocks } from "./request-blocks.ts";
import { NO_PREFIX_CACHE_LOOKUPS, PrefixCacheStats } from "./stats.ts";

export interface ComputedBlocks {
  blocks: KVCacheBlock[];
  numComputedTokens: number;
  /** Tokens cached but left out by the N − 1 cap: the whole last block when N = k·B and it hit. */
  numCappedTokens: number;
}

export interface AllocateSlotsOptions {
  /** Tokens just found in the local prefix cache (`new_computed_blocks` · block size). */
  numNewComputedTokens?: number;
  newComputedBlocks?: KVCacheBlock[];
  /** Tokens whose KV a connector will supply. */
  numExternalComputedTokens?: number;
  /** Allocate now but cache later: the KV is still in flight from a remote instance. */
  delayCacheBlocks?: boolean;
  /** Admission gate: fail unless the whole current sequence fits (vLLM's `scheduler_reserve_full_isl`). */
  fullSequenceMustFit?: boolean;
}

// Shared and never written (not frozen, for the reason lists.ts gives).
const NO_OPTIONS: Readonly<AllocateSlotsOptions> = {};
const NO_BLOCKS: readonly KVCacheBlock[] = nothing();
const NO_IDS: readonly number[] = nothing();

export class KVCacheManager {
  readonly blockPool: BlockPool;
  /**
   * Every request holding blocks, as a linked list through their entries: the hot paths reach
   * an entry through its request, so a map by id would only be kept up to date, at a set and a
   * delete (and table rehashes) per request.
   */
  private firstHolding: RequestBlocks | null = null;
  private lastHolding: RequestBlocks | null = null;
  private numHolding = 0;
  /** Made at the first lookup of a step. */
  private prefixCacheStats: PrefixCacheStats | null = null;

  constructor(
    numGpuBlocks: number,
    readonly blockSize: number,
    readonly maxModelLen: number,
    readonly enableCaching: boolean,
  ) {
    this.blockPool = new BlockPool(numGpuBlocks, enableCaching);
  }

  get usage(): number {
    return this.blockPool.getUsage();
  }

  /** Returns and resets the prefix-cache stats gathered since the last call. */
  makePrefixCacheStats(): PrefixCacheStats {
    const stats = this.prefixCacheStats ?? NO_PREFIX_CACHE_LOOKUPS;
    this.prefixCacheStats = null;
    return stats;
  }

  /**
   * The longest run of leading cached blocks, capped so that at least one prompt token is left
   * to compute (the model needs one input token to produce logits):
   *
   *   L = min(leading cached blocks, ⌊(N − 1) / B⌋) · B
   *
   * so a full hit with N a multiple of B recomputes the whole last block.
   */
  getComputedBlocks(request: Request): ComputedBlocks {
    if (!this.enableCaching) return { blocks: [], numComputedTokens: 0, numCappedTokens: 0 };
    const maxBlocks = this.maxCacheHitBlocks(request.numTokens);
    const blocks: KVCacheBlock[] = [];
    const numHashes = request.numBlockHashes;
    for (let i = 0; i < maxBlocks && i < numHashes; i++) {
      const block = this.blockPool.getCachedBlock(request.blockHash(i));
      if (block === null) break;
      blocks.push(block);
    }
    // Only a full last block can lie beyond the cap, and only a hit up to the cap reaches it.
    const capped =
      blocks.length === maxBlocks &&
      maxBlocks < numHashes &&
      (maxBlocks + 1) * this.blockSize <= request.numTokens &&
      this.blockPool.getCachedBlock(request.blockHash(maxBlocks)) !== null;
    return {
      blocks,
      numComputedTokens: blocks.length * this.blockSize,
      numCappedTokens: capped ? this.blockSize : 0,
    };
  }

  /**
   * The L that getComputedBlocks would find for a request of this prompt, without taking,
   * touching or counting anything: the pool's free queue, reference counts and the prefix-cache
   * stats stay as they were. A read-only probe, for routing.
   */
  numCachedPrefixTokens(prompt: Prompt): number {
    if (!this.enableCaching) return 0;
    const hashes = prompt.blockHashes(this.blockSize);
    const maxBlocks = this.maxCacheHitBlocks(prompt.length);
    let hits = 0;
    while (hits < maxBlocks && hits < hashes.length) {
      if (this.blockPool.getCachedBlock(hashes[hits]!) === null) break;
      hits += 1;
    }
    return hits * this.blockSize;
  }

  /** ⌊(N − 1) / B⌋: a hit leaves at least one of the N tokens to compute. */
  private maxCacheHitBlocks(numTokens: number): number {
    return Math.floor((numTokens - 1) / this.blockSize);
  }

  /** Counted at admission, so lookups for requests that could not be scheduled are not. */
  recordPrefixCacheStats(request: Request, numHits: number): void {
    if (!this.enableCaching) return;
    this.prefixCacheStats ??= new PrefixCacheStats();
    this.prefixCacheStats.record(request.numTokens, numHits, request.numPreemptions > 0);
  }

  /**
   * Gives the request slots for `numNewTokens` more tokens and returns how many blocks it took
   * from the pool, or returns null when the pool cannot (the caller then preempts or stops
   * admitting). vLLM returns the new blocks themselves; the new ones are the request's last
   * `n` in `getBlockIds`.
   *
   *   | computed | new computed (local hit) | external | new | ← request.numTokens …
   *              |<-------------- to be allocated -------------->|
   */
  allocateSlots(
    request: Request,
    numNewTokens: number,
    opts: Readonly<AllocateSlotsOptions> = NO_OPTIONS,
  ): number | null {
    const numNewComputedTokens = opts.numNewComputedTokens ?? 0;
    const newComputedBlocks = opts.newComputedBlocks ?? NO_BLOCKS;
    const numExternal = opts.numExternalComputedTokens ?? 0;
    if (numNewTokens === 0 && numExternal === 0) {
      throw new Error(
        `allocateSlots(${request.requestId}): numNewTokens must be > 0 when there are no external tokens`,
      );
    }
    const numLocalComputedTokens = request.numComputedTokens + numNewComputedTokens;
    const totalComputedTokens = Math.min(numLocalComputedTokens + numExternal, this.maxModelLen);
    let req = request.kvBlocks;
    const numHeld = req === null ? 0 : req.ids.length;

    if (opts.fullSequenceMustFit) {
      const fullNumTokens = Math.min(request.numTokens, this.maxModelLen);
      const needed = this.numBlocksToAllocate(numHeld, fullNumTokens, newComputedBlocks);
      if (needed > this.blockPool.getNumFreeBlocks()) return null;
    }

    const numTokensNeedSlot = Math.min(totalComputedTokens + numNewTokens, this.maxModelLen);
    const needed = this.numBlocksToAllocate(numHeld, numTokensNeedSlot, newComputedBlocks);
    if (needed > this.blockPool.getNumFreeBlocks()) return null;

    if (req === null) {
      req = {
        requestId: request.requestId,
        ids: [],
        numCached: 0,
        prev: this.lastHolding,
        next: null,
      };
      if (this.lastHolding !== null) this.lastHolding.next = req;
      else this.firstHolding = req;
      this.lastHolding = req;
      this.numHolding += 1;
      request.kvBlocks = req;
    }
    if (newComputedBlocks.length > 0) {
      if (this.enableCaching) this.blockPool.touch(newComputedBlocks);
      for (const block of newComputedBlocks) req.ids.push(block.blockId);
      req.numCached = req.ids.length;
    }
    const numRequired = Math.ceil(numTokensNeedSlot / this.blockSize);
    // Most decode steps fit in the blocks the request holds: nothing to take from the pool.
    const numNewBlocks = Math.max(0, numRequired - req.ids.length);
    if (numNewBlocks > 0) this.blockPool.takeNewBlockIds(numNewBlocks, req.ids);

    if (!this.enableCaching || opts.delayCacheBlocks) return numNewBlocks;
    this.cacheFullBlocksOf(
      request,
      req,
      Math.min(totalComputedTokens + numNewTokens, request.numTokens),
    );
    return numNewBlocks;
  }

  /** Registers the request's full blocks up to `numComputedTokens` in the prefix cache. */
  cacheBlocks(request: Request, numComputedTokens: number): void {
    if (!this.enableCaching) return;
    const req = request.kvBlocks;
    if (req !== null) this.cacheFullBlocksOf(request, req, numComputedTokens);
  }

  private cacheFullBlocksOf(request: Request, req: RequestBlocks, numComputedTokens: number): void {
    const numFullBlocks = Math.floor(numComputedTokens / this.blockSize);
    if (numFullBlocks <= req.numCached) return;
    // The request keeps its prompt's hashes and its output blocks' hashes apart.
    const promptHashes = request.promptBlockHashes;
    const numPromptBlocks = promptHashes.length;
    const pool = this.blockPool;
    if (req.numCached < numPromptBlocks) {
      const end = Math.min(numFullBlocks, numPromptBlocks);
      pool.cacheFullBlockIds(promptHashes, 0, req.ids, req.numCached, end);
    }
    if (numFullBlocks > numPromptBlocks) {
      const start = Math.max(req.numCached, numPromptBlocks);
      pool.cacheFullBlockIds(
        request.outputBlockHashes,
        numPromptBlocks,
        req.ids,
        start,
        numFullBlocks,
      );
    }
    req.numCached = numFullBlocks;
  }

  /** Frees the request's blocks tail first, so a cached prefix is evicted from its end. */
  free(request: Request): void {
    const req = request.kvBlocks;
    if (req === null) return;
    if (req.prev !== null) req.prev.next = req.next;
    else this.firstHolding = req.next;
    if (req.next !== null) req.next.prev = req.prev;
    else this.lastHolding = req.prev;
    this.numHolding -= 1;
    request.kvBlocks = null;
    this.blockPool.freeBlockIdsTailFirst(req.ids);
  }

  /** The ids of the request's blocks, in order (what the connector and remote readers see). */
  getBlockIds(request: Request): readonly number[] {
    return request.kvBlocks?.ids ?? NO_IDS;
  }

  /** How many requests hold each block: what every block's refCnt should be. */
  blockHolders(): Map<KVCacheBlock, number> {
    const holders = new Map<KVCacheBlock, number>();
    for (let req = this.firstHolding; req !== null; req = req.next) {
      for (const block of this.blocksOf(req.ids)) holders.set(block, (holders.get(block) ?? 0) + 1);
    }
    return holders;
  }

  private blocksOf(ids: readonly number[]): KVCacheBlock[] {
    return ids.map((id) => this.blockPool.blocks[id]!);
  }

  /** Number of requests holding blocks; for conservation checks. */
  get numRequestsWithBlocks(): number {
    return this.numHolding;
  }

  private numBlocksToAllocate(
    numHeld: number,
    numTokens: number,
    newComputedBlocks: readonly KVCacheBlock[],
  ): number {
    const numRequired = Math.ceil(numTokens / this.blockSize);
    const numNew = numRequired - numHeld - newComputedBlocks.length;
    // A hit on an evictable block takes it out of the free queue, so it costs a free block too.
    let numEvictableComputed = 0;
    for (const block of newComputedBlocks)
      if (block.refCnt === 0 && !block.isNull) numEvictableComputed++;
    return Math.max(0, numNew) + numEvictableComputed;
  }
}
