// Runs a sweep's pending runs on this machine, N at a time: one in this thread and N − 1 on a
// pool of worker threads (piscina), each taking the next run when it finishes one. This thread
// takes a share because it is already warm: a worker thread spends about a second loading the
// simulator before its first run (docs/performance.md, the sweep benchmark). Each finished run
// is handed back as it ends; a stop request lets the runs under way be abandoned (their results
// are not kept, so a later --resume runs them again).
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
  let next = 0;
  const take = (): RunSpec | undefined =>
    next < runs.length && !options.stopped() ? runs[next++] : undefined;
  const here = async (): Promise<void> => {
    for (;;) {
      // A turn of the event loop between runs, so that a signal and the pool's results are heard.
      await new Promise((resolve) => setImmediate(resolve));
      const spec = take();
      if (spec === undefined) return;
      options.onStart?.(spec);
      options.onResult(runOne(spec, collect, options.clock));
    }
  };
  const threads = Math.min(options.workers, runs.length) - 1;
  if (threads <= 0) return here();
  const pool = new Piscina({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    // One run a thread at a time: a run is CPU-bound from start to end.
    concurrentTasksPerWorker: 1,
  });
  const abort = new AbortController();
  const pooled = async (): Promise<void> => {
    for (let spec = take(); spec !== undefined; spec = take()) {
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
    await Promise.all([here(), ...Array.from({ length: threads }, pooled)]);
  } finally {
    clearInterval(watch);
    await pool.destroy();
  }
}
