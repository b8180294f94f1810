// Runs `pdsim run --out` on a scenario that replays a trace file written from `lines` (null: the
// file is left as it is), checks that it ends in exit 2 with no stack trace and nothing written,
// and returns stderr with the scratch directory taken out of the paths.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";
import { listFiles, pdsim, writeScenario } from "../e2e/cli.ts";

export async function refusedTrace(
  dir: string,
  format: string,
  lines: string | null,
  options = "",
  file = "bad.jsonl",
): Promise<string> {
  if (lines !== null) fs.writeFileSync(path.join(dir, file), lines);
  const scenario = writeScenario(dir, "bad.yaml", [
    "instances: [{ name: u, role: unified }]",
    `workload: { trace: { format: ${format}, path: ${file}${options} } }`,
  ]);
  const out = path.join(dir, "out");
  const result = await pdsim("run", scenario, "--out", out);
  expect(result.status).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(out) ? listFiles(out) : []).toEqual([]);
  return result.stderr.replaceAll(dir + "/", "");
}
