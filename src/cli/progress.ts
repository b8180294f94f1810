// The progress bar of a long run: on stderr, only when stderr is a terminal, and only once the
// run has taken a second of wall time. The kernel runs in slices between redraws; the slices do
// not change what it computes.

import cliProgress from "cli-progress";
import type { Cluster, ClusterRunResult } from "../cluster/cluster.ts";
import type { TextSink } from "./io.ts";

const EVENTS_PER_SLICE = 20_000;

export interface ProgressOptions {
  /** Where the bar goes: a terminal (a real stream), or nowhere. */
  stream?: TextSink;
  showAfterMs?: number;
}

export function runWithProgress(cluster: Cluster, options: ProgressOptions = {}): ClusterRunResult {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY !== true) return cluster.run();
  // Only a stream can be a terminal: cli-progress moves its cursor.
  const terminal = stream as NodeJS.WritableStream;
  const showAfterMs = options.showAfterMs ?? 1_000;
  const started = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  cluster.start();
  while (cluster.sim.pendingEvents > 0) {
    cluster.sim.run({ maxEvents: EVENTS_PER_SLICE });
    if (bar === null && performance.now() - started >= showAfterMs) {
      bar = new cliProgress.SingleBar(
        {
          stream: terminal,
          format: "pdsim {bar} {value}/{total} requests | {simulated} s simulated",
          hideCursor: true,
          clearOnComplete: true,
          // Redraws follow the kernel's slices, not a timer.
          noTTYOutput: false,
          fps: 1000,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(cluster.workloadSize, 0, { simulated: "0.0" });
    }
    bar?.update(cluster.requestsDone, { simulated: (cluster.sim.now / 1e6).toFixed(1) });
  }
  bar?.stop();
  return cluster.finishRun();
}
