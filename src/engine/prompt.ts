// A client request's prompt: its token ids and their chained block hashes. Both legs of a P/D
// request (and every routing probe) read the same Prompt, so the hashes are computed once per
// block size rather than once per leg, and a shared system prompt's blocks once per group.

import { type BlockHash, NONE_HASH, hashBlockTokens } from "./block-hash.ts";

interface HashesForBlockSize {
  blockSize: number;
  hashes: readonly BlockHash[];
}

export class Prompt {
  private readonly memo: HashesForBlockSize[] = [];

  /**
   * `sharedPrefix`, when given, is a prompt whose tokens this one starts with (up to the shorter
   * of the two): the hashes of the blocks inside it are taken from it instead of recomputed.
   */
  constructor(
    readonly tokenIds: ArrayLike<number>,
    private readonly sharedPrefix: Prompt | null = null,
  ) {}

  get length(): number {
    return this.tokenIds.length;
  }

  /** The hashes of the prompt's full blocks, in order (vLLM's request.block_hashes before any output). */
  blockHashes(blockSize: number): readonly BlockHash[] {
    for (const m of this.memo) if (m.blockSize === blockSize) return m.hashes;
    const hashes = this.computeBlockHashes(blockSize);
    this.memo.push({ blockSize, hashes });
    return hashes;
  }

  private computeBlockHashes(blockSize: number): BlockHash[] {
    const numFullBlocks = Math.floor(this.tokenIds.length / blockSize);
    const hashes: BlockHash[] = [];
    if (this.sharedPrefix !== null) {
      const inherited = this.sharedPrefix.blockHashes(blockSize);
      for (let i = 0; i < inherited.length && i < numFullBlocks; i++) hashes.push(inherited[i]!);
    }
    for (let i = hashes.length; i < numFullBlocks; i++) {
      const parent = i === 0 ? NONE_HASH : hashes[i - 1]!;
      hashes.push(hashBlockTokens(parent, this.tokenIds, i * blockSize, blockSize));
    }
    return hashes;
  }
}
