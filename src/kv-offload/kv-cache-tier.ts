// An external KV cache tier: CPU memory behind vLLM's OffloadingConnector, or a cache service
// behind LMCache. It holds KV in chunks of a fixed number of tokens (the OffloadingConnector's
// offloaded block, LMCache's chunk), each keyed by the hash of the prefix it ends, and evicts
// the least recently used ready chunk when a store needs room. Mirrors the block states of
// vllm/v1/kv_offload/cpu/manager.py (CPUOffloadingManager) and its LRU policy: a chunk being
// stored is not ready (not loadable, not evictable), a chunk being loaded is pinned.

import type { Simulation } from "../../sim/index.ts";
import { Link, type LinkConfig } from "../kv-transfer/link.ts";

/** A chunk's key: the block hash that ends the prefix the chunk closes. */
export type ChunkKey = number;

export interface KvCacheTierConfig {
  name: string;
  /** How many chunks fit. */
  capacityChunks: number;
  chunkTokens: number;
  kvBytesPerToken: number;
  /** The path KV takes from the tier into an instance's GPU memory. */
  load: LinkConfig;
  /** The path KV takes from an instance's GPU memory into the tier. */
  store: LinkConfig;
}

/** What went in and out of the tier, in tokens; stored − evicted = resident at every moment. */
export interface KvCacheTierTotals {
  storedTokens: number;
  loadedTokens: number;
  evictedTokens: number;
  residentTokens: number;
  /** Stores refused because no chunk could be evicted to make room. */
  storesRefused: number;
}

/** −1: being stored (not ready); 0: ready and evictable; n > 0: n loads in flight. */
type RefCount = number;

const STORING: RefCount = -1;

export class KvCacheTier {
  readonly name: string;
  readonly chunkTokens: number;
  readonly capacityChunks: number;
  readonly kvBytesPerToken: number;
  readonly loadLink: Link;
  readonly storeLink: Link;
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly chunks = new Map<ChunkKey, RefCount>();
  private readonly counts: KvCacheTierTotals = {
    storedTokens: 0,
    loadedTokens: 0,
    evictedTokens: 0,
    residentTokens: 0,
    storesRefused: 0,
  };

  constructor(sim: Simulation, config: KvCacheTierConfig) {
    this.name = config.name;
    this.chunkTokens = config.chunkTokens;
    this.capacityChunks = config.capacityChunks;
    this.kvBytesPerToken = config.kvBytesPerToken;
    this.loadLink = new Link(sim, `${config.name} load`, config.load);
    this.storeLink = new Link(sim, `${config.name} store`, config.store);
  }

  get totals(): Readonly<KvCacheTierTotals> {
    return { ...this.counts };
  }

  /** Chunks held, ready or not. */
  get numChunks(): number {
    return this.chunks.size;
  }

  /** Chunks whose store has not ended, and chunks pinned by loads in flight (a scan). */
  inFlight(): { storing: number; pinned: number } {
    let storing = 0;
    let pinned = 0;
    for (const ref of this.chunks.values()) {
      if (ref === STORING) storing += 1;
      else if (ref > 0) pinned += 1;
    }
    return { storing, pinned };
  }

  /** How many of `keys`, from `start`, are ready in a row: the hit a prefix lookup finds. */
  lookup(keys: readonly ChunkKey[], start: number): number {
    let hits = 0;
    for (let i = start; i < keys.length; i++) {
      const ref = this.chunks.get(keys[i]!);
      if (ref === undefined || ref === STORING) break;
      hits += 1;
    }
    return hits;
  }

  /**
   * Marks the keys held as most recently used, the first key last, as vLLM's LRU policy does:
   * a request's tail chunk is evicted before its shared prefix.
   */
  touch(keys: readonly ChunkKey[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const ref = this.chunks.get(key);
      if (ref === undefined) continue;
      this.chunks.delete(key);
      this.chunks.set(key, ref);
    }
  }

  /**
   * Makes room for the keys not held yet and holds them as being stored; returns those keys
   * (they are what must be copied), or null, changing nothing, when eviction cannot free enough
   * room: vLLM then skips the store for this step.
   */
  prepareStore(keys: readonly ChunkKey[]): ChunkKey[] | null {
    const wanted = new Set(keys);
    const fresh = [...wanted].filter((key) => !this.chunks.has(key));
    const needed = this.chunks.size + fresh.length - this.capacityChunks;
    if (needed > 0 && !this.evict(needed, wanted)) {
      this.counts.storesRefused += 1;
      return null;
    }
    for (const key of fresh) this.chunks.set(key, STORING);
    return fresh;
  }

  /** The copy of these keys ended: they become ready (loadable and evictable). */
  completeStore(keys: readonly ChunkKey[]): void {
    for (const key of keys) {
      if (this.chunks.get(key) !== STORING) continue;
      this.chunks.set(key, 0);
      this.counts.storedTokens += this.chunkTokens;
      this.counts.residentTokens += this.chunkTokens;
    }
  }

  /** Pins ready chunks for a load; a pinned chunk is never evicted. */
  startLoad(keys: readonly ChunkKey[]): void {
    for (const key of keys) {
      const ref = this.chunks.get(key);
      if (ref === undefined || ref === STORING) {
        throw new Error(`tier ${this.name}: load of chunk ${key}, which is not ready`);
      }
      this.chunks.set(key, ref + 1);
    }
  }

  /** A load ended: unpins its chunks and counts the tokens it delivered. */
  endLoad(keys: readonly ChunkKey[], tokens: number): void {
    for (const key of keys) this.chunks.set(key, this.chunks.get(key)! - 1);
    this.counts.loadedTokens += tokens;
  }

  /** Bytes of `tokens` tokens of KV. */
  bytesOf(tokens: number): number {
    return tokens * this.kvBytesPerToken;
  }

  /** Evicts `count` ready, unpinned chunks, oldest first, none of `protectedKeys`; all or none. */
  private evict(count: number, protectedKeys: ReadonlySet<ChunkKey>): boolean {
    const victims: ChunkKey[] = [];
    for (const [key, ref] of this.chunks) {
      if (victims.length === count) break;
      if (ref !== 0 || protectedKeys.has(key)) continue;
      victims.push(key);
    }
    if (victims.length < count) return false;
    for (const key of victims) this.chunks.delete(key);
    this.counts.evictedTokens += victims.length * this.chunkTokens;
    this.counts.residentTokens -= victims.length * this.chunkTokens;
    return true;
  }
}
