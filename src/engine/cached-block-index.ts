// The prefix cache's hash → block index (vLLM's cached_block_hash_to_block), as a chained hash
// table over typed arrays: at most one entry per block, so it never grows, and inserting or
// evicting allocates nothing. A JavaScript Map under the same churn (an insert per cached block,
// a delete per eviction) spent most of its time rehashing and collecting garbage.

import type { BlockHash } from "./block-hash.ts";

const NONE = -1;

export class CachedBlockIndex {
  /** Per slot, the first block id in its chain. */
  private readonly heads: Int32Array;
  /** Per block id, the next block id in its slot's chain. */
  private readonly next: Int32Array;
  /** Per block id, the hash it is cached under (valid while it is in a chain). */
  private readonly hashes: Float64Array;
  private readonly mask: number;
  size = 0;

  constructor(numBlocks: number) {
    // A power of two at least twice the blocks: chains stay a block or two long.
    let slots = 1;
    while (slots < 2 * numBlocks) slots *= 2;
    this.heads = new Int32Array(slots).fill(NONE);
    this.next = new Int32Array(numBlocks).fill(NONE);
    this.hashes = new Float64Array(numBlocks);
    this.mask = slots - 1;
  }

  /** The earliest-cached block id still cached under `hash`, or −1. */
  get(hash: BlockHash): number {
    for (let b = this.heads[hash & this.mask]!; b !== NONE; b = this.next[b]!) {
      if (this.hashes[b] === hash) return b;
    }
    return NONE;
  }

  /** Caches block `id` under `hash`, after every block already cached under it. */
  add(id: number, hash: BlockHash): void {
    const slot = hash & this.mask;
    this.hashes[id] = hash;
    this.next[id] = NONE;
    let b = this.heads[slot]!;
    if (b === NONE) this.heads[slot] = id;
    else {
      while (this.next[b]! !== NONE) b = this.next[b]!;
      this.next[b] = id;
    }
    this.size += 1;
  }

  /** Removes block `id`, cached under `hash`. */
  remove(id: number, hash: BlockHash): void {
    const slot = hash & this.mask;
    let b = this.heads[slot]!;
    if (b === id) this.heads[slot] = this.next[id]!;
    else {
      while (b !== NONE && this.next[b]! !== id) b = this.next[b]!;
      if (b === NONE) throw new Error(`CachedBlockIndex: block ${id} is not cached`);
      this.next[b] = this.next[id]!;
    }
    this.next[id] = NONE;
    this.size -= 1;
  }
}
