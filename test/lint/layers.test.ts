// The import rules of .dependency-cruiser.mjs, run through dependency-cruiser's API as
// `npm run lint` runs them: the source tree keeps them, and a tree that breaks them is reported
// rule by rule.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ICruiseOptions, type ICruiseResult, cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function violations(baseDir: string, options: ICruiseOptions): Promise<string[]> {
  const { output } = await cruise(
    ["src", "sim"],
    { ...options, baseDir },
    {},
    { tsConfig: extractTSConfig(path.join(ROOT, "tsconfig.json")) },
  );
  return (output as ICruiseResult).summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? " (cycle)" : ""}`,
  );
}

/** Writes `files` (path → text) under a fresh temporary directory and returns it. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-layers-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe("the import rules", () => {
  let options: ICruiseOptions;
  const dirs: string[] = [];

  beforeAll(async () => {
    options = await extractDepcruiseOptions(path.join(ROOT, ".dependency-cruiser.mjs"));
  });
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("hold for sim/ and src/", async () => {
    expect(await violations(ROOT, options)).toEqual([]);
  });

  it("report an import from a later layer, a cycle of type-only imports and a folder outside the layers", async () => {
    const dir = tree({
      "sim/kernel.ts":
        'import type { Request } from "../src/engine/request.ts";\nexport type K = Request;\n',
      "src/engine/request.ts": "export interface Request { id: string }\n",
      "src/engine/scheduler.ts":
        'import type { Cluster } from "../cluster/cluster.ts";\nexport type S = Cluster;\n',
      "src/cluster/cluster.ts":
        'import type { Request } from "../engine/request.ts";\nexport interface Cluster { r: Request }\n',
      "src/util/a.ts": 'import type { B } from "./b.ts";\nexport interface A { b: B }\n',
      "src/util/b.ts": 'import type { A } from "./a.ts";\nexport interface B { a: A }\n',
      "src/elsewhere/x.ts": 'import type { A } from "../util/a.ts";\nexport type X = A;\n',
    });
    dirs.push(dir);
    expect((await violations(dir, options)).sort()).toEqual([
      "layer-engine: src/engine/scheduler.ts -> src/cluster/cluster.ts",
      "layer-sim: sim/kernel.ts -> src/engine/request.ts",
      "layer-unknown: src/elsewhere/x.ts -> src/util/a.ts",
      "no-circular: src/util/a.ts -> src/util/b.ts (cycle)",
    ]);
  });

  it("report an import that resolves to no file, so that no edge escapes them", async () => {
    const dir = tree({
      "sim/index.ts": "export const now = 0;\n",
      "src/engine/scheduler.ts": 'import type { Gone } from "./gone.ts";\nexport type S = Gone;\n',
    });
    dirs.push(dir);
    expect(await violations(dir, options)).toEqual([
      "not-to-unresolvable: src/engine/scheduler.ts -> ./gone.ts",
    ]);
  });

  it("report a Node built-in that the playground reaches, however indirectly", async () => {
    const dir = tree({
      "sim/index.ts": "export const now = 0;\n",
      "src/util/files.ts":
        'import { readFile } from "node:fs/promises";\nexport const read = readFile;\n',
      "src/util/clock.ts":
        'import { EventEmitter } from "events";\nexport const e = EventEmitter;\n',
      "src/engine/step.ts": 'import { read } from "../util/files.ts";\nexport const r = read;\n',
      "src/playground/page.ts":
        'import { r } from "../engine/step.ts";\nimport { now } from "../../sim/index.ts";\nexport const p = [r, now];\n',
      "src/playground/virtual.ts":
        'import source from "virtual:pdsim-worker";\nexport const v = source;\n',
    });
    dirs.push(dir);
    // The bundler's virtual modules are not files, and are not missing ones either.
    expect(await violations(dir, options)).toEqual([
      "playground-not-to-node: src/playground/page.ts -> fs/promises",
    ]);
  });
});
