// A run as the playground makes it, in its Web Worker: the scenario's text parsed as `pdsim run`
// parses a file, the same ScenarioRun, the kernel driven in slices so that progress shows (Stop
// ends the worker), and a result the page can draw (all of it plain data, to cross postMessage).
// No DOM here: the tests run it in Node and compare it with the CLI.

import { ClusterCore } from "../cluster/cluster-core.ts";
import { formatExporterError, formatLogLine } from "../output/console-report.ts";
import type { ReportData } from "../output/report-data.ts";
import { ScenarioRun } from "../output/scenario-run.ts";
import type { RunSummary } from "../output/summary.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { ScenarioError, type ScenarioIssue } from "../scenario/errors.ts";
import { describeExpected } from "../scenario/expectations.ts";
import { parseScenarioText } from "../scenario/parse.ts";
import type { ScenarioFiles } from "../scenario/resolve.ts";
import type { Scenario } from "../scenario/types.ts";
import { explainRequest, renderExplanation } from "../explain/explanation.ts";
import { inMemoryWorkloadSource, WorkloadKindUnavailable } from "../workload/in-memory-workload.ts";
import { SimulationStalled } from "../cluster/cluster-core.ts";
import type { RequestRecord } from "../cluster/request-record.ts";

/** Events between two progress reports (Stop ends the worker, whatever it is doing). */
export const EVENTS_PER_SLICE = 5_000;
/** Requests whose records the page keeps for its table (and the exercises). */
export const PAGE_REQUESTS = 500;
/** Log lines the page keeps; a long run's later lines are counted, not kept. */
export const PAGE_LOG_LINES = 2_000;

/** The page has no disk: a scenario that names a file gets a message that says so. */
export const PAGE_FILES: ScenarioFiles = {
  resolve: (from, relative) =>
    relative.startsWith("/") ? relative : `${from.slice(0, from.lastIndexOf("/") + 1)}${relative}`,
  readText: (path) => {
    throw Object.assign(
      new Error(`the playground cannot read files ('${path}'); run this scenario with the CLI`),
      { code: "EPAGE" },
    );
  },
};

export interface PageRunOptions {
  /** Default: the scenario's own seed. */
  seed?: number | undefined;
  /** Default: the scenario's metrics.profile. */
  profile?: ProfileName | undefined;
}

export interface PageRunHooks {
  /** Between slices: requests finished of the workload's total, and the simulated time. */
  onProgress?(done: number, total: number, simulatedS: number): void;
}

export interface ExpectationRow {
  instance: string;
  metric: string;
  expected: string;
  actual: number | null;
  passed: boolean;
}

export interface PageResult {
  kind: "done";
  summary: RunSummary;
  logLines: string[];
  /** Log lines past PAGE_LOG_LINES. */
  logLinesLeftOut: number;
  /** Exporter errors as the CLI prints them on stderr. */
  errorLines: string[];
  expectations: ExpectationRow[];
  report: ReportData;
  /** The first PAGE_REQUESTS to finish. */
  requests: RequestRecord[];
  /** Each instance's selected exposition, sample by sample: what the exercises read. */
  samples: Record<string, { name: string; labels: Record<string, string>; value: number }[]>;
}

export type PageOutcome =
  | PageResult
  | { kind: "invalid"; issues: ScenarioIssue[]; omitted: number }
  | { kind: "failed"; message: string };

/** Parses as the CLI parses; problems come back placed at their line and column. */
export function parsePageScenario(
  text: string,
  file: string,
): Scenario | { kind: "invalid"; issues: ScenarioIssue[]; omitted: number } {
  try {
    return parseScenarioText(text, file, PAGE_FILES);
  } catch (error) {
    if (error instanceof ScenarioError) {
      return { kind: "invalid", issues: [...error.issues], omitted: error.omitted };
    }
    throw error;
  }
}

export function runPageScenario(
  text: string,
  file: string,
  options: PageRunOptions = {},
  hooks: PageRunHooks = {},
): PageOutcome {
  const parsed = parsePageScenario(text, file);
  if ("kind" in parsed) return parsed;
  const scenario = parsed;
  const logLines: string[] = [];
  let logLinesLeftOut = 0;
  const errorLines: string[] = [];
  const requests: RequestRecord[] = [];
  try {
    const run = new ScenarioRun(
      scenario,
      {
        seed: options.seed ?? scenario.seed,
        profile: options.profile,
        report: true,
        onLog: (line) => {
          if (logLines.length < PAGE_LOG_LINES) logLines.push(formatLogLine(line));
          else logLinesLeftOut += 1;
        },
        onExporterError: (e) => errorLines.push(formatExporterError(e)),
        onRequestFinished: (record) => {
          if (requests.length < PAGE_REQUESTS) requests.push(record);
        },
      },
      (s, seed, observer, profiles) =>
        new ClusterCore(s, seed, observer, profiles, { openWorkload: inMemoryWorkloadSource }),
    );
    const { cluster } = run;
    cluster.start();
    for (let more = true; more;) {
      more = cluster.advance(EVENTS_PER_SLICE, run.sampler);
      hooks.onProgress?.(cluster.requestsDone, cluster.workloadSize, cluster.sim.now / 1e6);
    }
    const result = cluster.finishRun();
    // The page measures its own wall time; the summary's is left at 0 to keep runs comparable.
    const { summary, expectations, report } = run.finish(result, 0);
    return {
      kind: "done",
      summary,
      logLines,
      logLinesLeftOut,
      errorLines,
      expectations: expectations.map((e) => ({
        instance: e.expectation.instance,
        metric: e.expectation.metric,
        expected: describeExpected(e.expectation),
        actual: e.actual ?? null,
        passed: e.passed,
      })),
      report: report!,
      requests,
      samples: Object.fromEntries(
        cluster.instances.map((i) => [i.name, i.statLoggers.prometheus.samples()]),
      ),
    };
  } catch (error) {
    if (error instanceof ScenarioError) {
      return { kind: "invalid", issues: [...error.issues], omitted: error.omitted };
    }
    if (error instanceof SimulationStalled || error instanceof WorkloadKindUnavailable) {
      return { kind: "failed", message: error.message };
    }
    throw error;
  }
}

/** `pdsim explain`'s text for request `id` of the same run. */
export function explainPageRequest(text: string, file: string, seed: number, id: string): string {
  const parsed = parsePageScenario(text, file);
  if ("kind" in parsed) return "The scenario no longer loads: fix it and run it again.";
  const explained = explainRequest(parsed, seed, id, inMemoryWorkloadSource);
  if ("missing" in explained) return `No request '${id}' finished in this run.`;
  return renderExplanation(explained);
}
