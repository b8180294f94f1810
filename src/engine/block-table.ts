// Every mutable field of one pool's blocks, one 32-byte record per block in a single buffer: the
// free list's links, the reference count, the prefix-cache chain link and the hash the block is
// cached under. Taking a block from the free list, evicting it, caching it and dropping a
// reference each read one record instead of one array (or object) per field: with eight pools
// of 16,384 blocks, field-per-array makes every block operation a handful of cache misses
// (docs/performance.md, change 9).

/** No block: the end of a list or chain. */
export const NO_BLOCK = -1;
/** The hash of a block that is not cached (hashes are never negative). */
export const NOT_CACHED = -1;

// Int32 slots of a record; the hash is the float64 in slots 4–5.
const STRIDE_I32 = 8;
const PREV_FREE = 0;
const NEXT_FREE = 1;
const REF_CNT = 2;
const CHAIN_NEXT = 3;
const STRIDE_F64 = 4;
const HASH = 2;

export class BlockTable {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(readonly numBlocks: number) {
    const buffer = new ArrayBuffer(numBlocks * STRIDE_I32 * 4);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    for (let id = 0; id < numBlocks; id++) {
      this.setPrevFree(id, NO_BLOCK);
      this.setNextFree(id, NO_BLOCK);
      this.setChainNext(id, NO_BLOCK);
      this.setHash(id, NOT_CACHED);
    }
  }

  prevFree(id: number): number {
    return this.i32[id * STRIDE_I32 + PREV_FREE]!;
  }

  setPrevFree(id: number, prev: number): void {
    this.i32[id * STRIDE_I32 + PREV_FREE] = prev;
  }

  nextFree(id: number): number {
    return this.i32[id * STRIDE_I32 + NEXT_FREE]!;
  }

  setNextFree(id: number, next: number): void {
    this.i32[id * STRIDE_I32 + NEXT_FREE] = next;
  }

  refCnt(id: number): number {
    return this.i32[id * STRIDE_I32 + REF_CNT]!;
  }

  setRefCnt(id: number, refCnt: number): void {
    this.i32[id * STRIDE_I32 + REF_CNT] = refCnt;
  }

  /** The next block in the prefix-cache index's chain for this block's slot. */
  chainNext(id: number): number {
    return this.i32[id * STRIDE_I32 + CHAIN_NEXT]!;
  }

  setChainNext(id: number, next: number): void {
    this.i32[id * STRIDE_I32 + CHAIN_NEXT] = next;
  }

  /** The hash the block is cached under, or NOT_CACHED. */
  hash(id: number): number {
    return this.f64[id * STRIDE_F64 + HASH]!;
  }

  setHash(id: number, hash: number): void {
    this.f64[id * STRIDE_F64 + HASH] = hash;
  }
}
