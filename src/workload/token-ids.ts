// Synthetic but real token ids: a token is a pure function of a key (a prefix group, a request)
// and a position, so requests that share a prefix share token ids and hit the prefix cache only
// through their block hashes.

/** Qwen3's vocabulary size; ids are drawn from [0, VOCAB_SIZE). */
export const VOCAB_SIZE = 151_936;
// VOCAB_SIZE = 1187 · 2^7. An unsigned 32-bit hash is not a small integer to V8, so `h % VOCAB_SIZE`
// compiles to a floating-point remainder, a library call (docs/performance.md, change 11);
// splitting off the low 7 bits leaves a remainder of small integers with the same result:
// x mod (1187 · 128) = 128 · ((x >>> 7) mod 1187) + (x & 127).
// (Module-private constants: V8 does not fold an exported binding inside a function.)
const VOCAB_ODD = 1187;
const VOCAB_SHIFT = 7;
const VOCAB_LOW_MASK = (1 << VOCAB_SHIFT) - 1;

/** FNV-1a over the key's UTF-16 code units; a key's stream of tokens starts from this. */
export function keySeed(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function tokenAt(seed: number, position: number): number {
  let h = Math.imul(seed ^ Math.imul(position + 1, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (((h >>> VOCAB_SHIFT) % VOCAB_ODD) << VOCAB_SHIFT) | (h & VOCAB_LOW_MASK);
}

/**
 * The token at each position of a prompt whose first `prefix.tokens` come from the shared
 * `prefix.key` stream and the rest from the request's own stream.
 */
export function promptTokenAt(
  ownKey: string,
  prefix?: { key: string; tokens: number },
): (position: number) => number {
  const own = keySeed(ownKey);
  const shared = prefix === undefined ? own : keySeed(prefix.key);
  const end = prefix === undefined ? 0 : prefix.tokens;
  // One function literal for every prompt, so the hashing loop's call to it stays inlinable.
  return (i) => tokenAt(i < end ? shared : own, i);
}

/** Generated tokens of one request: unique to it, deterministic. */
export function outputTokenIdSource(requestKey: string): (index: number) => number {
  const seed = keySeed(`out:${requestKey}`);
  return (index) => tokenAt(seed, index);
}
