// Lists that usually stay empty (a step's preemptions, admissions, finished requests, ...; a
// request's output-block hashes until an output token fills a block) start as one shared empty
// array and become a fresh one at their first entry. A million-request run takes ten million
// engine steps, and a dozen fresh empty arrays per step would be a large part of what the garbage
// collector sweeps (docs/performance.md, change 18).
//
// The shared array is never written: every write goes through `append`, and the AppendOnly type
// makes any other write, or an append to a list `nothing()` did not start, fail to compile.
// (Freezing the array would say so at run time, but V8 iterates a frozen array through a slower,
// allocating path.)

declare const grownByAppend: unique symbol;

/** A list that starts as `nothing()` and grows only through `append`: read-only to all else. */
export type AppendOnly<T> = readonly T[] & { readonly [grownByAppend]: true };

const NOTHING = [] as unknown as AppendOnly<never>;

/** The shared empty list. */
export function nothing<T>(): AppendOnly<T> {
  return NOTHING;
}

/** Adds `item` to `list` and returns the list to keep: a fresh one if `list` was the shared empty one. */
export function append<T>(list: AppendOnly<T>, item: T): AppendOnly<T> {
  if (list === NOTHING) return [item] as unknown as AppendOnly<T>;
  (list as unknown as T[]).push(item);
  return list;
}

/** Whether nothing was ever appended to the shared empty list (what a test checks after a run). */
export function sharedEmptyListIsEmpty(): boolean {
  return NOTHING.length === 0;
}
