// A fast-check generator of prompt shapes for the engine properties: N = k·B + r tokens, with
// r drawn so that N < B, N = k·B, N = k·B + 1 and N = (k+1)·B − 1 all come up often, and the
// first `shared` tokens taken from one of two prefix groups so that prompts hit each other.

import fc from "fast-check";

export interface PromptShape {
  k: number;
  r: "zero" | "one" | "last" | number;
  group: number;
  shared: "all" | { k: number; r: number };
}

export function promptShapeArb(maxK: number, maxSharedK: number): fc.Arbitrary<PromptShape> {
  return fc.record({
    k: fc.integer({ min: 0, max: maxK }),
    r: fc.oneof(
      { weight: 3, arbitrary: fc.constant("zero" as const) },
      { weight: 2, arbitrary: fc.constant("one" as const) },
      { weight: 1, arbitrary: fc.constant("last" as const) },
      { weight: 1, arbitrary: fc.nat({ max: 15 }) },
    ),
    group: fc.integer({ min: 0, max: 1 }),
    shared: fc.oneof(
      { weight: 2, arbitrary: fc.constant("all" as const) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.integer({ min: 0, max: maxSharedK }),
          r: fc.nat({ max: 15 }),
        }),
      },
    ),
  });
}

/** N, at least 1 token. */
export function promptLength(shape: PromptShape, blockSize: number): number {
  const B = blockSize;
  const r =
    shape.r === "zero" ? 0 : shape.r === "one" ? 1 : shape.r === "last" ? B - 1 : shape.r % B;
  return Math.max(1, shape.k * B + r);
}

/** How many of a prompt's `n` tokens come from its prefix group. */
export function sharedLength(shape: PromptShape, n: number, blockSize: number): number {
  const s = shape.shared;
  return s === "all" ? n : Math.min(n, s.k * blockSize + (s.r % blockSize));
}
