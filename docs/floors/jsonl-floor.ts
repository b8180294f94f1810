// requests.jsonl alone: JSON.stringify and writing of a million of bench-small's own records
// (about 2.2 GB), joined and written as OutputDir does, 64 KB at a time.
//   npx tsx docs/floors/jsonl-floor.ts [records, default 1000000]

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const numRecords = Number(process.argv[2] ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-jsonl-floor-"));
try {
  const bin = path.resolve(import.meta.dirname, "../../src/cli/bin.js");
  const scenario = path.resolve(import.meta.dirname, "../../scenarios/bench/bench-small.yaml");
  const run = spawnSync(process.execPath, [
    bin,
    "run",
    scenario,
    "--quiet",
    "--out",
    path.join(dir, "run"),
  ]);
  if (run.status !== 0) throw new Error(`pdsim run failed: ${run.stderr}`);
  const records = fs
    .readFileSync(path.join(dir, "run", "requests.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as unknown);
  const fd = fs.openSync(path.join(dir, "floor.jsonl"), "w");
  let pending: string[] = [];
  let pendingChars = 0;
  let totalChars = 0;
  const started = performance.now();
  for (let i = 0; i < numRecords; i++) {
    const line = JSON.stringify(records[i % records.length]) + "\n";
    totalChars += line.length;
    pending.push(line);
    pendingChars += line.length;
    if (pendingChars >= 1 << 16) {
      fs.writeSync(fd, pending.join(""));
      pending = [];
      pendingChars = 0;
    }
  }
  fs.writeSync(fd, pending.join(""));
  fs.closeSync(fd);
  const ms = performance.now() - started;
  console.log(
    `${numRecords} records, ${(totalChars / 1e9).toFixed(2)} GB: ${(ms / 1000).toFixed(2)} s, ` +
      `${((ms * 1000) / numRecords).toFixed(1)} µs a record`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
