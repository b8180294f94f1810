// Runs a sweep's pending runs on this machine: in this thread with one worker, else on a pool
// of worker threads (piscina), one run a thread at a time. Each finished run is handed back as
// it ends; a stop request lets the runs under way be abandoned (their results are not kept, so
// a later --resume runs them again).
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { runOne, type Collect, type RunResult } from "./run-one.ts";
import type { RunSpec } from "./run-spec.ts";

export interface LocalRunOptions {
  workers: number;
  /** The wall clock in milliseconds, for each run's wall time (worker threads read their own). */
  clock: () => number;
  onStart?(spec: RunSpec): void;
  onResult(result: RunResult): void;
  /** Checked between runs; true stops the sweep. */
  stopped(): boolean;
}

export const DEFAULT_WORKERS = availableParallelism();

const WORKER = new URL("./worker.js", import.meta.url).href;

export async function runLocally(
  runs: readonly RunSpec[],
  collect: Collect,
  options: LocalRunOptions,
): Promise<void> {
  if (options.workers <= 1) {
    for (const spec of runs) {
      // A turn of the event loop between runs, so that a signal is heard.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.stopped()) return;
      options.onStart?.(spec);
      options.onResult(runOne(spec, collect, options.clock));
    }
    return;
  }
  const pool = new Piscina({
    filename: WORKER,
    minThreads: options.workers,
    maxThreads: options.workers,
    // One run a thread at a time: a run is CPU-bound from start to end.
    concurrentTasksPerWorker: 1,
  });
  const abort = new AbortController();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < runs.length && !options.stopped()) {
      const spec = runs[next++]!;
      options.onStart?.(spec);
      try {
        const result = (await pool.run({ spec, collect }, { signal: abort.signal })) as RunResult;
        options.onResult(result);
      } catch (error) {
        if (abort.signal.aborted) return;
        throw error;
      }
    }
  };
  const watch = setInterval(() => {
    if (options.stopped()) abort.abort();
  }, 50);
  try {
    await Promise.all(Array.from({ length: options.workers }, lane));
  } finally {
    clearInterval(watch);
    await pool.destroy();
  }
}
