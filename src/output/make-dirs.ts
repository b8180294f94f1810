// `mkdir -p` one level at a time. Node's recursive mkdirSync never returns for a path under
// /proc (it retries a parent that exists but refuses children), so `--out /proc/x` would spin.

import * as fs from "node:fs";
import * as path from "node:path";

/** Creates `dir` and any missing parents; throws the first error a level gives. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!fs.existsSync(at)) {
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const level of missing.reverse()) fs.mkdirSync(level);
}
