// The fuzz check shared by the quick slice (npm test) and the whole corpus (npm run test:slow):
// every case, through `pdsim run`, `check`, `explain` and `serve`'s start-up, ends in exit 0, 1
// or 2 with no stack trace, within the time limit.
import * as path from "node:path";
import { expect } from "vitest";
import { REPO, STACK_LINE, removeDir, scratchDir } from "../e2e/cli.ts";
import { writeCorpus } from "./mutate.ts";
import { FuzzPool } from "./pool.ts";

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Per command; generous, since two workers share two cores with the rest of the suite. */
  limitMs: number;
}

export async function fuzzCorpus(options: FuzzOptions): Promise<void> {
  const dir = scratchDir();
  const pool = new FuzzPool(2, options.limitMs);
  try {
    const cases = writeCorpus(path.join(REPO, "scenarios"), dir, options.cases, options.seed);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    await Promise.all(
      cases.flatMap((c) =>
        [
          ["run", c.file, "--quiet"],
          ["check", c.file, "--runs", "2"],
          ["explain", c.file, "--request", "r1"],
          ["serve-plan", c.file],
        ].map(async (args) => {
          const outcome = await pool.run({ args });
          const label = `${path.basename(c.file)} (${c.name}): pdsim ${args.join(" ")}`;
          if ("timedOut" in outcome) {
            failures.push(`${label}: still running after ${options.limitMs} ms`);
            return;
          }
          if ("crashed" in outcome) {
            failures.push(`${label}: the worker died: ${outcome.crashed}`);
            return;
          }
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          if (outcome.uncaught !== null) {
            failures.push(`${label}: uncaught ${outcome.uncaught.split("\n")[0]}`);
          } else if (![0, 1, 2].includes(outcome.status)) {
            failures.push(`${label}: exit ${outcome.status}`);
          } else if (STACK_LINE.test(outcome.stderr)) {
            failures.push(`${label}: a stack trace on stderr`);
          } else if (outcome.status === 2 && outcome.stderr.trim() === "") {
            failures.push(`${label}: exit 2 without a message`);
          }
        }),
      ),
    );
    expect(failures).toEqual([]);
    // The corpus reaches both sides: runs that succeed and inputs that are refused.
    expect(statuses.get(0) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(2) ?? 0).toBeGreaterThan(0);
  } finally {
    await pool.close();
    removeDir(dir);
  }
}
