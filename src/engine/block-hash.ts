// Chained block hashes over token ids; mirrors vllm/v1/core/kv_cache_utils.py (hash_block_tokens),
// with a fast 53-bit non-cryptographic hash in place of vLLM's sha256: a block's hash mixes its
// parent's hash with its token ids, so equal hashes mean equal prefixes (collisions are ~2^-53 per
// pair, far below anything a simulated run can reach).

export type BlockHash = number;

/** The hash a block chain starts from (vLLM's NONE_HASH). */
export const NONE_HASH: BlockHash = 0x1f123bb5;

const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, M1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, M2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the block `tokens[start, start + blockSize)` chained onto `parent`. */
export function hashBlockTokens(
  parent: BlockHash,
  tokens: ArrayLike<number>,
  start: number,
  blockSize: number,
): BlockHash {
  // Two independent 32-bit lanes (different seeds and mixing order) give 53 usable bits.
  const parentLo = (parent % 0x100000000) | 0;
  const parentHi = Math.floor(parent / 0x100000000) | 0;
  let a = mix(mix(0x9747b28c, parentLo), parentHi);
  let b = mix(mix(0x5bd1e995, parentHi), parentLo ^ 0x27d4eb2f);
  const end = start + blockSize;
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    a = mix(a, t);
    b = mix(b, t ^ 0x165667b1);
  }
  const hi = finalize(a, blockSize) & 0x1fffff;
  const lo = finalize(b, blockSize ^ 0x3c6ef372);
  return hi * 2 ** 32 + lo;
}
