// Paths into a scenario file ("instances[1].engine.block_size") and the position-free
// problems that validation reports against them before they are placed in the source.

export type PathSegment = string | number;

/**
 * A problem found at a path. `at` says which part of a map entry to point at: the key for a
 * key that should not be there, the value for a value that is wrong.
 */
export interface Problem {
  path: readonly PathSegment[];
  message: string;
  at: "key" | "value";
}

export function formatPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}
