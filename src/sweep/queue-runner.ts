// Runs a sweep's pending runs on a BullMQ queue that `pdsim worker`s on any machines take them
// from, and hands back each result as the queue says it is done. A job's id names its run and
// what it collects, so adding a sweep again adds nothing and collects what is already done; the
// jobs stay in Redis when the submitter stops, so a rerun collects the runs finished meanwhile.
import { Queue } from "bullmq";
import { type Collect, type RunResult } from "./run-one.ts";
import { runKey, type RunSpec } from "./run-spec.ts";
import { closeRedis, connectRedis } from "./queue-connection.ts";
import { queueName } from "./queue-url.ts";

export interface QueueRunOptions {
  /** redis://HOST:PORT of the queue's Redis. */
  url: string;
  /** pdsim's version: the queue's name, so that only workers of this version take the runs. */
  version: string;
  onResult(result: RunResult): void;
  /** Checked between polls; true stops waiting (the jobs stay queued). */
  stopped(): boolean;
  /** How often the queue's finished jobs are read. */
  pollMs?: number;
}

/** What a worker's processor is given: the run and the values to collect from it. */
export interface RunJobData {
  spec: RunSpec;
  collect: Collect;
}

const DEFAULT_POLL_MS = 250;

/**
 * The job of a run and what it collects: the run's key alone would let a sweep that collects
 * more columns take an earlier sweep's result of the same run, lacking them.
 */
export function jobIdOf(spec: RunSpec, collect: Collect): string {
  return `${spec.key}-${runKey(collect).slice(0, 8)}`;
}

/** Adds a job per run not queued yet, then hands back each run's result as it is finished. */
export async function runOnQueue(
  runs: readonly RunSpec[],
  collect: Collect,
  options: QueueRunOptions,
): Promise<void> {
  const client = await connectRedis(options.url);
  const queue = new Queue<RunJobData, RunResult>(queueName(options.version), {
    connection: client,
  });
  try {
    const waiting = new Map(runs.map((spec) => [jobIdOf(spec, collect), spec]));
    await addJobs(queue, waiting, collect);
    await collectResults(queue, waiting, options);
  } finally {
    await queue.close();
    await closeRedis(client);
  }
}

/**
 * One job a run, by id: BullMQ adds nothing for an id it holds. A job BullMQ gave up on (it
 * stalled too often, or its worker thread died) is tried again, as the local runner runs a
 * failed run again; a run that failed inside the simulation is a finished job and stays so.
 */
async function addJobs(
  queue: Queue<RunJobData, RunResult>,
  runs: ReadonlyMap<string, RunSpec>,
  collect: Collect,
): Promise<void> {
  const jobs = [...runs].map(([jobId, spec]) => ({
    name: "run",
    data: { spec, collect },
    opts: { jobId },
  }));
  // In slices, so that a large sweep does not go to Redis as one command.
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  const failed = new Set(await queue.getRanges(["failed"], 0, -1));
  for (const jobId of runs.keys()) {
    if (failed.has(jobId)) await (await queue.getJob(jobId))?.retry("failed");
  }
}

/**
 * Reads the queue's finished jobs whenever their counts change, rather than following its
 * events: a submitter that starts late, or loses its connection for a while, still finds every
 * result, since the jobs keep them.
 */
async function collectResults(
  queue: Queue<RunJobData, RunResult>,
  waiting: Map<string, RunSpec>,
  options: QueueRunOptions,
): Promise<void> {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let lastCounts = "";
  while (waiting.size > 0 && !options.stopped()) {
    const counts = JSON.stringify(await queue.getJobCounts("completed", "failed"));
    if (counts !== lastCounts) {
      lastCounts = counts;
      for (const state of ["completed", "failed"] as const) {
        for (const jobId of await queue.getRanges([state], 0, -1, true)) {
          const spec = waiting.get(jobId);
          if (spec === undefined) continue;
          const job = await queue.getJob(jobId);
          const result = job === undefined ? null : resultOf(spec, state, job);
          if (result === null) continue;
          waiting.delete(jobId);
          options.onResult(result);
        }
      }
    }
    await pause(pollMs, options.stopped);
  }
}

interface FinishedJob {
  returnvalue: RunResult | null;
  failedReason?: string;
  finishedOn?: number;
  processedOn?: number;
}

/**
 * A completed job's result, or a failed job's error as a failed run; null if the job moved on
 * between the listing and the read (a failed job tried again).
 */
function resultOf(
  spec: RunSpec,
  state: "completed" | "failed",
  job: FinishedJob,
): RunResult | null {
  if (job.finishedOn === undefined) return null;
  if (state === "completed") {
    if (job.returnvalue === null) return null;
    // The index is this sweep's: another sweep may have queued the same run at another place.
    return { ...job.returnvalue, key: spec.key, index: spec.index };
  }
  return {
    key: spec.key,
    index: spec.index,
    status: "failed",
    error: job.failedReason ?? "the job failed without a reason",
    wall_s: (job.finishedOn - (job.processedOn ?? job.finishedOn)) / 1000,
    values: {},
  };
}

/** Waits about `ms`, in slices, so that a stop is heard within one. */
async function pause(ms: number, stopped: () => boolean): Promise<void> {
  const slice = 50;
  for (let waited = 0; waited < ms && !stopped(); waited += slice) {
    await new Promise((resolve) => setTimeout(resolve, slice));
  }
}
