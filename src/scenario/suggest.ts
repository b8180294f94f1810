// Near-miss suggestions for misspelt keys, enum values and instance names.

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("tiem"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate the writer most likely meant, or undefined when none is close. Short words
 * get a smaller allowance so that "id" is not offered for "xy"; a prefix match ("prompt" for
 * "prompt_tokens") counts as close whatever the distance.
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const folded = word.toLowerCase();
  const allowance = Math.min(3, Math.max(1, Math.floor(folded.length / 2)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(folded, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= allowance) return best;
  if (folded.length < 3) return undefined;
  return candidates.find((c) => isNearPrefix(folded, c.toLowerCase()));
}

/** "prompt" or "promt" for "prompt_tokens"; "block_size_tokens" for "block_size". */
function isNearPrefix(word: string, candidate: string): boolean {
  if (candidate.startsWith(word) || (candidate.length >= 4 && word.startsWith(candidate))) {
    return true;
  }
  if (word.length < 4) return false;
  const head = (extra: number): string => candidate.slice(0, word.length + extra);
  return editDistance(word, head(0)) <= 1 || editDistance(word, head(1)) <= 1;
}

/** "; did you mean 'x'?" when a candidate is close, else nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = nearest(word, candidates);
  return best === undefined ? "" : `; did you mean '${best}'?`;
}

/** Like didYouMean, but when nothing is close lists every candidate after `listLabel`. */
export function suggestOrList(
  word: string,
  candidates: readonly string[],
  listLabel: string,
): string {
  const hint = didYouMean(word, candidates);
  if (hint !== "" || candidates.length === 0) return hint;
  return `; ${listLabel} ${candidates.join(", ")}`;
}
