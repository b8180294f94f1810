// `pdsim worker --queue URL`: takes the runs of sweeps submitted with `pdsim sweep --queue URL`
// and runs them on this machine's cores until stopped. Each result goes back through the queue;
// a line on stderr says what each run gave.
import { DEFAULT_WORKERS } from "../sweep/local-runner.ts";
import { parseQueueUrl } from "../sweep/queue-url.ts";
import { EXIT_OK, exitForBadInput, UsageError } from "./bad-input.ts";
import type { CliIo } from "./io.ts";
import { SignalLatch } from "./signals.ts";

export interface WorkerCommandOptions {
  queue: string;
  concurrency?: number | undefined;
  /** How soon a dead worker's runs are taken back (hidden: the tests shorten it). */
  lockMs?: number | undefined;
  version: string;
}

export async function workerCommand(io: CliIo, opts: WorkerCommandOptions): Promise<number> {
  const signals = new SignalLatch();
  try {
    const concurrency = positive("--concurrency", opts.concurrency ?? DEFAULT_WORKERS);
    const url = parseQueueUrl(opts.queue);
    // BullMQ loads only for the commands that use it.
    const { DEFAULT_LOCK_MS, startQueueWorker } = await import("../sweep/queue-worker.ts");
    const lockMs = positive("--lock-ms", opts.lockMs ?? DEFAULT_LOCK_MS);
    const worker = await startQueueWorker({
      url: opts.queue,
      version: opts.version,
      concurrency,
      lockMs,
      onResult: (r) =>
        io.stderr.write(
          `pdsim worker: run ${r.index} ${r.key}: ${r.status} in ${r.wall_s} s${r.error === undefined ? "" : `: ${r.error}`}\n`,
        ),
      onError: (message) => io.stderr.write(`pdsim worker: ${message}\n`),
    });
    io.stderr.write(
      `pdsim worker: taking runs from ${url.protocol}//${url.host}, ${concurrency} at a time; Ctrl-C stops it once the runs under way are done\n`,
    );
    await signals.wait();
    io.stderr.write(`pdsim worker: ${signals.received}: finishing the runs under way\n`);
    await worker.close();
    return EXIT_OK;
  } catch (error) {
    return exitForBadInput(io, error);
  } finally {
    signals.dispose();
  }
}

function positive(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`${option} must be a positive integer, got '${String(value)}'`);
  }
  return value;
}
