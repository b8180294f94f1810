// The prefix cache's hash → block index (vLLM's cached_block_hash_to_block), as a chained hash
// table whose chains run through the pool's block table: at most one entry per block, so it
// never grows, and inserting or evicting allocates nothing. A JavaScript Map under the same churn
// (an insert per cached block, a delete per eviction) spends most of its time rehashing and
// collecting garbage (docs/performance.md, changes 1–3).

import type { BlockHash } from "./block-hash.ts";
import { BlockTable, NO_BLOCK, NOT_CACHED } from "./block-table.ts";

// Module-private copies, which hot code reads as constants rather than through the import.
const NONE = NO_BLOCK;
const UNCACHED = NOT_CACHED;

export class CachedBlockIndex {
  /** Per slot, the first block id in its chain. */
  private readonly heads: Int32Array;
  private readonly mask: number;
  size = 0;

  /** The index writes each block's hash and chain link into `table` (a table of its own by default). */
  constructor(
    numBlocks: number,
    private readonly table: BlockTable = new BlockTable(numBlocks),
  ) {
    // A power of two at least twice the blocks: chains stay a block or two long.
    let slots = 1;
    while (slots < 2 * numBlocks) slots *= 2;
    this.heads = new Int32Array(slots).fill(NONE);
    this.mask = slots - 1;
  }

  /** The earliest-cached block id still cached under `hash`, or −1. */
  get(hash: BlockHash): number {
    const table = this.table;
    for (let b = this.heads[hash & this.mask]!; b !== NONE; b = table.chainNext(b)) {
      if (table.hash(b) === hash) return b;
    }
    return NONE;
  }

  /** Caches block `id` under `hash`, after every block already cached under it. */
  add(id: number, hash: BlockHash): void {
    const table = this.table;
    const slot = hash & this.mask;
    table.setHash(id, hash);
    table.setChainNext(id, NONE);
    let b = this.heads[slot]!;
    if (b === NONE) this.heads[slot] = id;
    else {
      while (table.chainNext(b) !== NONE) b = table.chainNext(b);
      table.setChainNext(b, id);
    }
    this.size += 1;
  }

  /** Removes block `id`, cached under `hash`; the block's hash reads NOT_CACHED again. */
  remove(id: number, hash: BlockHash): void {
    const table = this.table;
    const slot = hash & this.mask;
    let b = this.heads[slot]!;
    if (b === id) this.heads[slot] = table.chainNext(id);
    else {
      while (b !== NONE && table.chainNext(b) !== id) b = table.chainNext(b);
      if (b === NONE) throw new Error(`CachedBlockIndex: block ${id} is not cached`);
      table.setChainNext(b, table.chainNext(id));
    }
    table.setChainNext(id, NONE);
    table.setHash(id, UNCACHED);
    this.size -= 1;
  }
}
