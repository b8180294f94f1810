// `pdsim sweep SWEEP.yaml`: every run of a sweep on this machine's cores, or with --queue on the
// `pdsim worker`s of a Redis queue, each result kept as it ends, then the tables. A run already
// done (the same key in --out) is not run again, so an interrupted sweep is finished by running
// it again with --resume.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_WORKERS, runLocally } from "../sweep/local-runner.ts";
import { type Collect, collectedColumns, type RunResult } from "../sweep/run-one.ts";
import type { QueueRunOptions } from "../sweep/queue-runner.ts";
import { ResultsStore } from "../sweep/results-store.ts";
import { statusCounts } from "../sweep/runs-table.ts";
import { searchRates } from "../sweep/rate-search.ts";
import type { RunSpec } from "../sweep/run-spec.ts";
import { formatSearchTable, searchTable, writeSearchTable } from "../sweep/search-table.ts";
import { describeVariant, loadSweep, type Sweep } from "../sweep/sweep-file.ts";
import { parseQueueUrl } from "../sweep/queue-url.ts";
import { EXIT_OK, exitForBadInput, UsageError } from "./bad-input.ts";
import type { CliIo } from "./io.ts";
import { SignalLatch } from "./signals.ts";
import { SweepProgress } from "./sweep-progress.ts";

/** A sweep with a failed run exits 1, as a run whose expectations fail does. */
const EXIT_RUN_FAILED = 1;
const EXIT_SIGNAL_BASE = 128;

export interface SweepOptions {
  sweep: string;
  out?: string | undefined;
  workers?: number | undefined;
  resume: boolean;
  dryRun: boolean;
  /** "rate": the highest arrival rate each configuration takes (the sweep file's `search`). */
  search?: string | undefined;
  /** redis://HOST:PORT: the runs go on its queue for `pdsim worker`s instead of this machine. */
  queue?: string | undefined;
  version: string;
}

export async function sweepCommand(io: CliIo, opts: SweepOptions): Promise<number> {
  const signals = new SignalLatch();
  try {
    const workers = opts.workers ?? DEFAULT_WORKERS;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new UsageError(`--workers must be a positive integer, got '${String(opts.workers)}'`);
    }
    const sweep = loadSweep(opts.sweep, opts.version);
    if (opts.search !== undefined && sweep.search === undefined) {
      throw new UsageError(`--search ${opts.search}: ${opts.sweep} has no search section`);
    }
    if (opts.search === undefined && sweep.search !== undefined) {
      throw new UsageError(`${opts.sweep} has a search section: run it with --search rate`);
    }
    if (opts.dryRun) {
      io.stdout.write(dryRunText(sweep));
      return EXIT_OK;
    }
    const dir = opts.out ?? path.join("sweeps", sweep.name);
    checkResume(dir, sweep, opts.resume);
    // An unreachable queue is found before anything is written.
    const queue = opts.queue === undefined ? null : await openQueue(opts.queue, opts.version);
    const store = new ResultsStore(dir);
    const started = new Date().toISOString();
    const results = store.done();
    const columns = collectedColumns(sweep.collect);
    for (const [key, result] of results) {
      // A run that collected less than this sweep asks for runs again.
      if (!columns.every((c) => c in result.values)) results.delete(key);
    }
    let alreadyDone = 0;
    let ranHere = 0;
    const execute = async (specs: readonly RunSpec[]): Promise<void> => {
      // Two variants that set the same values are one run.
      const pending = [
        ...new Map(specs.filter((r) => !results.has(r.key)).map((r) => [r.key, r])).values(),
      ];
      alreadyDone += specs.filter((r) => results.has(r.key)).length;
      const progress = new SweepProgress(io.stderr, specs.length, specs.length - pending.length);
      const onResult = (result: RunResult) => {
        store.record(result);
        results.set(result.key, result);
        progress.finished(result);
      };
      const stopped = () => signals.received !== null;
      if (queue === null) {
        await runLocally(pending, sweep.collect, {
          workers: Math.min(workers, Math.max(1, pending.length)),
          clock: () => performance.now(),
          onStart: () => progress.started(),
          onResult,
          stopped,
        });
      } else {
        await queue(pending, sweep.collect, { onResult, stopped });
      }
      progress.stop();
      ranHere += progress.ranHere;
    };
    const search = sweep.search;
    if (search === undefined) {
      await execute(sweep.runs);
    } else {
      const states = await searchRates(
        sweep.variants,
        search,
        {
          run: async (specs) => {
            await execute(specs);
            return results;
          },
          runsOf: sweep.runsOf,
          stopped: () => signals.received !== null,
        },
        (specs) => sweep.runs.push(...specs),
      );
      if (signals.received === null) {
        const table = searchTable(sweep, search, states);
        writeSearchTable(path.join(dir, "search.csv"), table);
        io.stdout.write(formatSearchTable(table));
      }
    }
    store.writeTables(sweep, results, {
      version: opts.version,
      started,
      ended: new Date().toISOString(),
      workers,
    });
    const counts = statusCounts(sweep, results);
    const failed = sweep.runs.filter((r) => results.get(r.key)?.status === "failed");
    io.stderr.write(
      `sweep ${sweep.name}: ${sweep.runs.length} runs: ${alreadyDone} already done, ${ranHere} run now, ${counts.failed} failed, ${counts.not_run} not run; ${path.join(dir, "runs.csv")}\n`,
    );
    for (const spec of failed.slice(0, 5)) {
      io.stderr.write(
        `  failed: run ${spec.index} (${describeVariant(spec.variant)}, seed ${spec.seed}): ${results.get(spec.key)?.error}\n`,
      );
    }
    // A summary path or an instance name that matches nothing gives an empty column, not an error.
    const ok = sweep.runs.map((r) => results.get(r.key)).filter((r) => r?.status === "ok");
    for (const column of ok.length === 0 ? [] : columns) {
      if (ok.every((r) => r!.values[column] === null || r!.values[column] === undefined)) {
        io.stderr.write(
          `pdsim: column ${column} has no value in any run: check its path, instance or role\n`,
        );
      }
    }
    if (signals.received !== null) {
      io.stderr.write(
        `pdsim: interrupted by ${signals.received}; run again with --resume to finish\n`,
      );
      return EXIT_SIGNAL_BASE + os.constants.signals[signals.received];
    }
    return counts.failed > 0 ? EXIT_RUN_FAILED : EXIT_OK;
  } catch (error) {
    return exitForBadInput(io, error);
  } finally {
    signals.dispose();
  }
}

/** The queue runner, once Redis has answered; BullMQ loads only for the sweeps that use it. */
async function openQueue(
  url: string,
  version: string,
): Promise<
  (
    runs: RunSpec[],
    collect: Collect,
    o: Pick<QueueRunOptions, "onResult" | "stopped">,
  ) => Promise<void>
> {
  parseQueueUrl(url);
  const { assertReachable } = await import("../sweep/queue-connection.ts");
  await assertReachable(url);
  const { runOnQueue } = await import("../sweep/queue-runner.ts");
  return (runs, collect, o) => runOnQueue(runs, collect, { ...o, url, version });
}

/** --resume continues this sweep's results; without it, another sweep's results are not mixed in. */
function checkResume(dir: string, sweep: Sweep, resume: boolean): void {
  const info = path.join(dir, "sweep.json");
  const runs = path.join(dir, "runs");
  const hasResults = fs.existsSync(runs) && fs.readdirSync(runs).length > 0;
  if (resume && !hasResults) {
    throw new UsageError(`--resume: ${dir} holds no results of a sweep to resume`);
  }
  if (!fs.existsSync(info)) return;
  let previous: string | undefined;
  try {
    previous = (JSON.parse(fs.readFileSync(info, "utf8")) as { sweep?: { name?: string } }).sweep
      ?.name;
  } catch {
    throw new UsageError(`${info} is not a sweep.json pdsim wrote; choose another --out`);
  }
  if (previous !== undefined && previous !== sweep.name) {
    throw new UsageError(
      `${dir} holds the results of sweep '${previous}', not '${sweep.name}'; choose another --out`,
    );
  }
}

function dryRunText(sweep: Sweep): string {
  const scenario = path.basename(sweep.scenarioFile);
  if (sweep.search !== undefined) {
    const { key, min, max } = sweep.search;
    const lines = sweep.variants.map((v, i) => `${String(i).padStart(5)}  ${describeVariant(v)}`);
    return `${lines.join("\n")}\n${count(sweep.variants.length, "configuration")} of ${scenario}, each searched for its highest ${key} from ${min} to ${max} with ${count(sweep.seeds.length, "seed")} a probe; nothing run\n`;
  }
  const lines = sweep.runs.map(
    (r) =>
      `${String(r.index).padStart(5)}  ${r.key}  seed ${r.seed}  ${describeVariant(r.variant)}`,
  );
  return `${lines.join("\n")}\n${count(sweep.runs.length, "run")} of ${scenario}; nothing run\n`;
}

/** "1 run", "4 runs". */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
