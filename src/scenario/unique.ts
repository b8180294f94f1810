// Reports repeated names or ids in a list, for the schemas of instances and explicit requests.
import type { z } from "zod";

/**
 * Adds an issue at `[i, field]` for every item whose key an earlier item already used, and
 * returns each key's first index.
 */
export function indexUnique<T>(
  items: readonly T[],
  key: (item: T) => string,
  field: string,
  describe: (value: string, earlierIndex: number) => string,
  ctx: z.RefinementCtx,
): Map<string, number> {
  const firstIndex = new Map<string, number>();
  items.forEach((item, i) => {
    const value = key(item);
    const earlier = firstIndex.get(value);
    if (earlier === undefined) firstIndex.set(value, i);
    else ctx.addIssue({ code: "custom", path: [i, field], message: describe(value, earlier) });
  });
  return firstIndex;
}
