// Writes a small set of files into a directory whole or not at all (`pdsim check --out`): they
// go to a sibling staging directory that replaces the target only once every file is written.

import * as fs from "node:fs";
import * as path from "node:path";
import { makeDirs } from "./make-dirs.ts";
import { OutputDirError } from "./output-dir.ts";

/**
 * `marker` names a file every earlier output of the same command holds: a non-empty directory
 * without it is someone else's, and is refused.
 */
export function writeFileSet(
  dir: string,
  files: ReadonlyMap<string, string>,
  marker: string,
): void {
  if (dir === "") throw new OutputDirError("--out needs a directory name");
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) {
      throw new OutputDirError(`--out ${dir}: exists and is not a directory`);
    }
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !entries.includes(marker)) {
      throw new OutputDirError(
        `--out ${dir}: directory is not empty and does not hold a previous output (no ${marker}); refusing to overwrite it`,
      );
    }
  }
  const parent = path.dirname(path.resolve(dir));
  const staging = path.join(parent, `.${path.basename(dir)}.partial-${process.pid}`);
  try {
    makeDirs(parent);
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging);
    for (const [name, text] of files) fs.writeFileSync(path.join(staging, name), text);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new OutputDirError(`--out ${dir}: cannot write there: ${(error as Error).message}`);
  }
}
