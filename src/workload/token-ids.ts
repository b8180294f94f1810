// Synthetic but real token ids: a token is a pure function of a key (a prefix group, a request)
// and a position, so requests that share a prefix share token ids and hit the prefix cache only
// through their block hashes.

/** Qwen3's vocabulary size; ids are drawn from [0, VOCAB_SIZE). */
export const VOCAB_SIZE = 151_936;
// V8 does not constant-fold an exported binding inside a function: `tokenAt` reading VOCAB_SIZE
// ran 4.5× slower than with this module-private copy.
const VOCAB = VOCAB_SIZE;

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
  return (h >>> 0) % VOCAB;
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
  if (prefix === undefined) return (i) => tokenAt(own, i);
  const shared = keySeed(prefix.key);
  const end = prefix.tokens;
  return (i) => tokenAt(i < end ? shared : own, i);
}

/** The first `length` tokens of `promptTokenAt(ownKey, prefix)`. */
export function promptTokenIds(
  length: number,
  ownKey: string,
  prefix?: { key: string; tokens: number },
): Int32Array {
  const at = promptTokenAt(ownKey, prefix);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = at(i);
  return out;
}

/** Generated tokens of one request: unique to it, deterministic. */
export function outputTokenIdSource(requestKey: string): (index: number) => number {
  const seed = keySeed(`out:${requestKey}`);
  return (index) => tokenAt(seed, index);
}
