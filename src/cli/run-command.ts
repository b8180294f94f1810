// `pdsim run`: load, simulate, print the log lines and a summary, write `--out`, check `expect`.

import * as os from "node:os";
import { Cluster } from "../cluster/cluster.ts";
import { type ScrapeTarget, SeriesRecorder } from "../metrics/series-recorder.ts";
import { OutputDir } from "../output/output-dir.ts";
import { renderReport } from "../output/report-page.ts";
import { ScenarioRun } from "../output/scenario-run.ts";
import { TraceRecorder } from "../output/trace-recorder.ts";
import { formatExporterError, formatLogLine, formatSummary } from "../output/console-report.ts";
import { loadScenario } from "../scenario/index.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { formatSeconds } from "../../sim/index.ts";
import type { CliIo } from "./io.ts";
import { runWithProgress } from "./progress.ts";
import { Interrupted, SignalLatch } from "./signals.ts";
import { EXIT_EXPECTATION_FAILED, EXIT_OK, exitForBadInput, parseSeed } from "./bad-input.ts";

export interface RunOptions {
  scenario: string;
  /** As typed on the command line. */
  seed?: string | undefined;
  profile?: string | undefined;
  out?: string | undefined;
  quiet: boolean;
  json: boolean;
}

export async function runCommand(io: CliIo, opts: RunOptions): Promise<number> {
  let out: OutputDir | null = null;
  const signals = new SignalLatch();
  try {
    const scenario = loadScenario(opts.scenario);
    const seed = opts.seed === undefined ? scenario.seed : parseSeed(opts.seed);
    const printLog = !opts.quiet && !opts.json;
    const run = new ScenarioRun(
      scenario,
      {
        seed,
        profile: opts.profile as ProfileName | "all" | undefined,
        report: opts.out !== undefined,
        onLog: printLog ? (line) => io.stdout.write(formatLogLine(line) + "\n") : undefined,
        onRequestFinished: (record) => {
          out?.appendRequest(record);
          trace?.requestFinished(record, cluster.sim.now);
        },
        onExporterError: (error) => io.stderr.write(formatExporterError(error) + "\n"),
      },
      (s, seed, observer, profiles) => new Cluster(s, seed, observer, profiles),
    );
    const cluster = run.cluster;
    let series: SeriesRecorder | null = null;
    let trace: TraceRecorder | null = null;
    if (opts.out !== undefined) {
      out = new OutputDir(opts.out);
      series = new SeriesRecorder(scrapeTargets(cluster));
      const traceFile = out.stream("trace.json");
      trace = new TraceRecorder(
        (chunk) => traceFile.write(chunk),
        cluster.instances.map((i) => i.name),
        links(cluster),
      );
      cluster.observe({
        onScrape: (time) => series?.scrape(time),
        onEngineStep: (instance, { schedulerOutput }) =>
          trace?.step(instance.name, schedulerOutput, cluster.sim.now),
        onTransfer: (record) => trace?.transfer(record),
      });
    }

    const wallStart = performance.now();
    const result = await runWithProgress(cluster, {
      // Log lines on the same terminal would tear the bar: it shows only when they are off.
      stream: printLog ? null : io.stderr,
      interrupted: () => signals.received,
      sampler: run.sampler,
    });
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const { summary, expectations, report } = run.finish(result, wallSeconds);

    if (out !== null) {
      for (const instance of cluster.instances) {
        if (signals.received !== null) throw new Interrupted(signals.received);
        out.writeMetrics(instance.name, instance.statLoggers.prometheus.exposition());
        if (run.profiles.length > 1) {
          for (const exposition of instance.expositions) {
            out.writeMetrics(
              `${exposition.profile.name}/${instance.name}`,
              exposition.exposition(),
            );
          }
        }
      }
      out.writeStreamed("metrics.om", (write) =>
        series!.writeOpenMetrics(write, {
          startMs: Date.parse(scenario.metrics.start_time),
          job: scenario.metrics.job,
        }),
      );
      trace!.finish();
      out.writeStreamed("report.html", (write) => write(renderReport(report!)));
      out.writeSummary(summary);
      out.commit();
      out = null;
    }
    if (opts.json) io.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    else io.stdout.write(formatSummary(summary, expectations));
    io.stderr.write(
      `pdsim: simulated ${formatSeconds(result.lastFinishTime)} s in ${wallSeconds.toFixed(2)} s wall, ` +
        `peak RSS ${peakRssMb()} MB\n`,
    );
    return expectations.every((e) => e.passed) ? EXIT_OK : EXIT_EXPECTATION_FAILED;
  } catch (err) {
    out?.abort();
    if (err instanceof Interrupted) {
      const nothing = opts.out === undefined ? "" : `; nothing was written to --out ${opts.out}`;
      io.stderr.write(`pdsim: ${err.message}${nothing}\n`);
      return EXIT_SIGNAL_BASE + os.constants.signals[err.signal];
    }
    return exitForBadInput(io, err);
  } finally {
    signals.dispose();
  }
}

/** A shell's exit status for a process a signal stopped is 128 plus the signal's number. */
const EXIT_SIGNAL_BASE = 128;

/** The process's peak resident memory so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Each instance's selected exposition, under the instance's name. */
function scrapeTargets(cluster: Cluster): ScrapeTarget[] {
  return cluster.instances.map((i) => ({ instance: i.name, exposition: i.statLoggers.prometheus }));
}

/** Every prefill→decode pair: the links KV can cross. */
function links(cluster: Cluster): { from: string; to: string }[] {
  const named = (role: string) =>
    cluster.instances.filter((i) => i.role === role).map((i) => i.name);
  return named("prefill").flatMap((from) => named("decode").map((to) => ({ from, to })));
}
