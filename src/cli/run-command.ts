// `pdsim run`: load, simulate, print the log lines and a summary, write `--out`, check `expect`.

import * as os from "node:os";
import { Cluster } from "../cluster/cluster.ts";
import type { InstanceExporterError } from "../cluster/instance.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { FINISH_REASONS, type FinishReason } from "../engine/request-status.ts";
import { type ScrapeTarget, SeriesRecorder } from "../metrics/series-recorder.ts";
import { OutputDir } from "../output/output-dir.ts";
import { ReportCollector } from "../output/report-data.ts";
import { ReportSampler } from "../output/report-sampler.ts";
import { renderReport } from "../output/report-page.ts";
import { TraceRecorder } from "../output/trace-recorder.ts";
import { buildSummary } from "../output/summary.ts";
import { formatLogLine, formatSummary } from "../output/console-report.ts";
import { checkExpectations, type SampleLookup } from "../scenario/expectations.ts";
import { loadScenario } from "../scenario/index.ts";
import { PROFILE_NAMES, PROFILES, type ProfileName } from "../accounting/profiles.ts";
import { EXPORTER_ERROR_MESSAGE } from "../accounting/prompt-source-counters.ts";
import { formatSeconds } from "../../sim/index.ts";
import type { CliIo } from "./io.ts";
import { runWithProgress } from "./progress.ts";
import { Interrupted, SignalLatch } from "./signals.ts";
import { validateExpectationMetrics } from "./validate.ts";
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
    // `all` exports every profile side by side; the scenario's own profile stays the selected one.
    const profile =
      opts.profile === undefined || opts.profile === "all"
        ? scenario.metrics.profile
        : (opts.profile as ProfileName);
    const profiles: ProfileName[] =
      opts.profile === "all" ? [profile, ...PROFILE_NAMES.filter((p) => p !== profile)] : [profile];
    const exporterErrors: InstanceExporterError[] = [];
    let series: SeriesRecorder | null = null;
    let trace: TraceRecorder | null = null;
    let reportCollector: ReportCollector | null = null;
    let sampler: ReportSampler | null = null;
    const byFinishReason = Object.fromEntries(FINISH_REASONS.map((r) => [r, 0])) as Record<
      FinishReason,
      number
    >;
    const printLog = !opts.quiet && !opts.json;

    const cluster = new Cluster(
      scenario,
      seed,
      {
        onLog: printLog ? (line) => io.stdout.write(formatLogLine(line) + "\n") : undefined,
        onRequestFinished: (record: RequestRecord) => {
          byFinishReason[record.finish_reason] += 1;
          out?.appendRequest(record);
          trace?.requestFinished(record, cluster.sim.now);
          reportCollector?.requestFinished(record);
        },
        onExporterError: (error) => {
          exporterErrors.push(error);
          io.stderr.write(formatExporterError(error) + "\n");
        },
        ...(opts.out === undefined
          ? {}
          : {
              onScrape: (time: number) => series?.scrape(time),
              onEngineStep: (instance, { schedulerOutput }) =>
                trace?.step(instance.name, schedulerOutput, cluster.sim.now),
              onTransfer: (record) => {
                trace?.transfer(record);
                reportCollector?.transfer(record);
              },
            }),
      },
      profiles.map((p) => PROFILES[p]),
    );
    validateExpectationMetrics(scenario, cluster);
    if (opts.out !== undefined) out = new OutputDir(opts.out);
    if (out !== null) {
      series = new SeriesRecorder(scrapeTargets(cluster));
      const traceFile = out.stream("trace.json");
      trace = new TraceRecorder(
        (chunk) => traceFile.write(chunk),
        cluster.instances.map((i) => i.name),
        links(cluster),
      );
      reportCollector = new ReportCollector();
      sampler = new ReportSampler(cluster.instances.map((i) => i.statLoggers.prometheus));
    }

    const wallStart = performance.now();
    const result = await runWithProgress(cluster, {
      // Log lines on the same terminal would tear the bar: it shows only when they are off.
      stream: printLog ? null : io.stderr,
      interrupted: () => signals.received,
      sampler,
    });
    const wallSeconds = (performance.now() - wallStart) / 1000;

    const lookup: SampleLookup = (instance, name, labels) =>
      cluster.instances
        .find((i) => i.name === instance)
        ?.statLoggers.prometheus.sampleValue(name, labels);
    const expectations = checkExpectations(scenario.expect, lookup);
    const summary = buildSummary({
      cluster,
      result,
      byFinishReason,
      profiles,
      seed,
      wallSeconds,
      expectations,
      exporterErrors,
    });

    if (out !== null) {
      for (const instance of cluster.instances) {
        if (signals.received !== null) throw new Interrupted(signals.received);
        out.writeMetrics(instance.name, instance.statLoggers.prometheus.exposition());
        if (profiles.length > 1) {
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
      const reportData = reportCollector!.build(
        sampler!,
        cluster.sim.lastWorkTime,
        cluster.instances,
        {
          scenario: scenario.name,
          profile,
          seed,
          hasSplit: PROFILES[profile].hasSourceSplit,
        },
      );
      out.writeStreamed("report.html", (write) => write(renderReport(reportData)));
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

/**
 * What vLLM's front end would have logged before its output handler died; pdsim carries on.
 * `[t=0.009s decode-0] ERROR vllm-pr33290: AsyncLLM output_handler failed: ValueError: …`
 */
export function formatExporterError(e: InstanceExporterError): string {
  return (
    `[t=${formatSeconds(e.time)}s ${e.instance}] ERROR ${e.profile}: AsyncLLM output_handler failed: ` +
    `ValueError: ${EXPORTER_ERROR_MESSAGE} (${e.metric} += ${e.amount}; requests ${e.requestIds.join(", ")})`
  );
}
