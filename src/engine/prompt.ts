// A client request's prompt: its token ids and their chained block hashes. Both legs of a P/D
// request (and every routing probe) read the same Prompt, so the hashes are computed once per
// block size rather than once per leg, and a shared system prompt's blocks once per group.
//
// A generated prompt's tokens are a pure function of their position. The engine only ever reads
// them block by block, to hash full blocks and keep the last partial one, so they are generated
// as they are read and never stored: a million requests would otherwise allocate (and collect)
// a few gigabytes of token ids.

import { type BlockHash, NONE_HASH, hashBlockTokens } from "./block-hash.ts";

/** The token at a position of a generated prompt. */
export type TokenAt = (position: number) => number;

interface HashesForBlockSize {
  blockSize: number;
  hashes: readonly BlockHash[];
}

/** One block's tokens while it is hashed; grown once if a larger block size comes along. */
let scratch = new Int32Array(16);

export class Prompt {
  private readonly memo: HashesForBlockSize[] = [];

  private constructor(
    readonly length: number,
    private readonly ids: ArrayLike<number> | null,
    private readonly generate: TokenAt | null,
    private readonly sharedPrefix: Prompt | null,
  ) {}

  /**
   * A prompt of these token ids. `sharedPrefix`, when given, is a prompt whose tokens this one
   * starts with (up to the shorter of the two): the hashes of the blocks inside it are taken from
   * it instead of recomputed.
   */
  static of(tokenIds: ArrayLike<number>, sharedPrefix: Prompt | null = null): Prompt {
    return new Prompt(tokenIds.length, tokenIds, null, sharedPrefix);
  }

  /** A prompt of `length` tokens whose ids `tokenAt` gives on demand; `sharedPrefix` as in `of`. */
  static generated(length: number, tokenAt: TokenAt, sharedPrefix: Prompt | null = null): Prompt {
    return new Prompt(length, null, tokenAt, sharedPrefix);
  }

  tokenId(position: number): number {
    return this.ids !== null ? this.ids[position]! : this.generate!(position);
  }

  /** Every token id, in order: the array the prompt was made of, or a fresh copy of a generated one. */
  tokenIds(): ArrayLike<number> {
    if (this.ids !== null) return this.ids;
    const out = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.generate!(i);
    return out;
  }

  /** The hashes of the prompt's full blocks, in order (vLLM's request.block_hashes before any output). */
  blockHashes(blockSize: number): readonly BlockHash[] {
    for (const m of this.memo) if (m.blockSize === blockSize) return m.hashes;
    const hashes = this.computeBlockHashes(blockSize);
    this.memo.push({ blockSize, hashes });
    return hashes;
  }

  private computeBlockHashes(blockSize: number): BlockHash[] {
    const numFullBlocks = Math.floor(this.length / blockSize);
    const hashes: BlockHash[] = [];
    if (this.sharedPrefix !== null) {
      const inherited = this.sharedPrefix.blockHashes(blockSize);
      for (let i = 0; i < inherited.length && i < numFullBlocks; i++) hashes.push(inherited[i]!);
    }
    if (this.generate !== null && scratch.length < blockSize) scratch = new Int32Array(blockSize);
    for (let i = hashes.length; i < numFullBlocks; i++) {
      const parent = i === 0 ? NONE_HASH : hashes[i - 1]!;
      const start = i * blockSize;
      if (this.ids !== null) {
        hashes.push(hashBlockTokens(parent, this.ids, start, blockSize));
        continue;
      }
      for (let j = 0; j < blockSize; j++) scratch[j] = this.generate!(start + j);
      hashes.push(hashBlockTokens(parent, scratch, 0, blockSize));
    }
    return hashes;
  }
}
