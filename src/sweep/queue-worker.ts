// The BullMQ worker behind `pdsim worker`: takes runs from the queue of its pdsim version and
// runs each in a sandboxed worker thread (queue-processor.js), so that its own thread stays free
// to renew the lock of every job it holds however long a run computes. A worker that dies
// stops renewing: once its locks expire, another worker's stalled-job check puts the jobs back
// to be run again.
import { hostname } from "node:os";
import { Worker } from "bullmq";
import { closeRedis, connectRedis } from "./queue-connection.ts";
import type { RunJobData } from "./queue-runner.ts";
import { queueName } from "./queue-url.ts";
import type { RunResult } from "./run-one.ts";

export interface QueueWorkerOptions {
  url: string;
  version: string;
  /** Runs at once, each on a thread of its own. */
  concurrency: number;
  /**
   * How long a job stays locked to a worker that stopped renewing it, and how often each
   * worker looks for such jobs: how soon a dead worker's runs are run again.
   */
  lockMs: number;
  onResult(result: RunResult): void;
  /** A job BullMQ failed (its thread died, or it stalled too often), or a connection error. */
  onError(message: string): void;
}

export const DEFAULT_LOCK_MS = 30_000;

/**
 * A job stalls when the worker holding it dies; it is put back twice. A third stall means
 * something keeps killing the workers that run it (memory, say): BullMQ then fails it with its
 * reason rather than trying it forever.
 */
const MAX_STALLED_COUNT = 2;

const PROCESSOR = new URL("./queue-processor.js", import.meta.url);

export interface QueueWorker {
  /** Stops taking runs and waits for those under way. */
  close(): Promise<void>;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const client = await connectRedis(options.url);
  const worker = new Worker<RunJobData, RunResult>(queueName(options.version), PROCESSOR, {
    connection: client,
    concurrency: options.concurrency,
    useWorkerThreads: true,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    maxStalledCount: MAX_STALLED_COUNT,
    // What a job's `processedBy` says: which machine and process ran it.
    name: `${hostname()}:${process.pid}`,
  });
  worker.on("completed", (_job, result) => options.onResult(result));
  worker.on("failed", (job, error) =>
    options.onError(`run ${job?.data.spec.index ?? "?"} ${job?.id ?? ""} failed: ${error.message}`),
  );
  worker.on("error", (error) => options.onError(error.message));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await closeRedis(client);
    },
  };
}
