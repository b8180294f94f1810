// The progress bar of `pdsim sweep`: runs done, failed and under way, and an estimate of the
// time left, on stderr when it is a terminal.
import cliProgress from "cli-progress";
import type { RunResult } from "../sweep/run-one.ts";
import type { TextSink } from "./io.ts";

/** Done, failed and running runs and the time left, on stderr when it is a terminal. */
export class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null = null;
  private done: number;
  private failed = 0;
  private running = 0;
  private readonly startedAt = performance.now();
  /** Runs that ended in this invocation. */
  ranHere = 0;

  constructor(
    stream: TextSink,
    private readonly total: number,
    alreadyDone: number,
  ) {
    this.done = alreadyDone;
    if (stream.isTTY !== true) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format:
          "sweep {bar} {value}/{total} done | {failed} failed | {running} running | {left} left",
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, alreadyDone, this.payload());
  }

  /** Not called for a queue's runs: their start is a worker's business. */
  started(): void {
    this.running += 1;
    this.bar?.update(this.done, this.payload());
  }

  finished(result: RunResult): void {
    this.running = Math.max(0, this.running - 1);
    this.done += 1;
    this.ranHere += 1;
    if (result.status === "failed") this.failed += 1;
    this.bar?.update(this.done, this.payload());
  }

  stop(): void {
    this.bar?.stop();
  }

  private payload(): { failed: number; running: number; left: string } {
    if (this.ranHere === 0) return { failed: this.failed, running: this.running, left: "?" };
    const perRun = (performance.now() - this.startedAt) / this.ranHere;
    const seconds = Math.round((perRun * (this.total - this.done)) / 1000);
    return { failed: this.failed, running: this.running, left: `${seconds} s` };
  }
}
