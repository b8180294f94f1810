// The processor of `pdsim worker`'s queue, which BullMQ runs sandboxed in a worker thread, so
// that a long, CPU-bound run leaves the worker's own thread free to renew the job's lock (else
// the job would be taken for stalled and run again elsewhere). Like worker.js, it loads the
// TypeScript through tsx's loader, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { runOne } = await import("./run-one.ts");

/** A job's data is { spec, collect } (queue-runner.ts); its return value the run's result. */
export default function process(job) {
  return runOne(job.data.spec, job.data.collect, () => performance.now());
}
