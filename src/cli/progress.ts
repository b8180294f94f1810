// How `pdsim run` drives the kernel: in slices of events, yielding to Node's event loop between
// them so that Ctrl-C (SIGINT) and SIGTERM are heard mid-run, with a progress bar on stderr when
// stderr is a terminal and the run has taken a second of wall time. The slices do not change
// what the kernel computes.

import cliProgress from "cli-progress";
import type { Cluster, ClusterRunResult, RunSampler } from "../cluster/cluster.ts";
import type { TextSink } from "./io.ts";
import { Interrupted } from "./signals.ts";

const EVENTS_PER_SLICE = 20_000;

export interface ProgressOptions {
  /** Where the bar goes: a terminal (a real stream); null or anything else for no bar. */
  stream?: TextSink | null;
  showAfterMs?: number;
  /** Checked between slices: a signal's name stops the run with Interrupted. */
  interrupted?: () => NodeJS.Signals | null;
  /** Reads the run at fixed simulated times (the report's charts). */
  sampler?: RunSampler | null;
}

export async function runWithProgress(
  cluster: Cluster,
  options: ProgressOptions = {},
): Promise<ClusterRunResult> {
  const stream = options.stream === undefined ? process.stderr : options.stream;
  const showAfterMs = options.showAfterMs ?? 1_000;
  const started = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  cluster.start();
  try {
    for (let more = true; more;) {
      more = cluster.advance(EVENTS_PER_SLICE, options.sampler ?? null);
      if (bar === null && stream?.isTTY === true && performance.now() - started >= showAfterMs) {
        bar = startBar(stream);
        bar.start(cluster.workloadSize, 0, { simulated: "0.0" });
      }
      bar?.update(cluster.requestsDone, { simulated: (cluster.sim.now / 1e6).toFixed(1) });
      await new Promise((resolve) => setImmediate(resolve));
      const signal = options.interrupted?.() ?? null;
      if (signal !== null) throw new Interrupted(signal);
    }
  } finally {
    bar?.stop();
  }
  return cluster.finishRun();
}

function startBar(stream: TextSink): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      // Only a stream can be a terminal: cli-progress moves its cursor.
      stream: stream as NodeJS.WritableStream,
      format: "pdsim {bar} {value}/{total} requests | {simulated} s simulated",
      hideCursor: true,
      clearOnComplete: true,
      // Redraws follow the kernel's slices, not a timer.
      noTTYOutput: false,
      fps: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
}
