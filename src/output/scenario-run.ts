// One run of a scenario as `pdsim run` and the playground make it: the profiles to export, the
// cluster, the check that every expectation names a metric, the report's collector and sampler,
// and at the end the summary (summary.json, `--json`), the expectations and the report's data.
// The caller drives the kernel (Cluster.advance) and adds what only it writes.

import type { ClusterCore, ClusterRunResult } from "../cluster/cluster-core.ts";
import type { InstanceExporterError, LogLine } from "../cluster/instance.ts";
import type { ClusterObserver } from "../cluster/observer.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { validateExpectationMetrics } from "../cluster/expectation-metrics.ts";
import { FINISH_REASONS, type FinishReason } from "../engine/request-status.ts";
import { PROFILE_NAMES, PROFILES, type Profile, type ProfileName } from "../accounting/profiles.ts";
import {
  checkExpectations,
  type ExpectationResult,
  type SampleLookup,
} from "../scenario/expectations.ts";
import type { Scenario } from "../scenario/types.ts";
import { ReportCollector, type ReportData } from "./report-data.ts";
import { ReportSampler } from "./report-sampler.ts";
import { buildSummary, type RunSummary } from "./summary.ts";

export interface ScenarioRunOptions {
  seed: number;
  /** A profile to select, `all` to export every one beside the scenario's, or its own. */
  profile?: ProfileName | "all" | undefined;
  /** Gather the report's data (charts, requests' sources, timeline). */
  report: boolean;
  onLog?: (line: LogLine) => void;
  onExporterError?: (error: InstanceExporterError) => void;
  onRequestFinished?: (record: RequestRecord) => void;
}

/** Builds the cluster; `makeCluster` gets the observer that must see every event. */
export type ClusterMaker<C extends ClusterCore> = (
  scenario: Scenario,
  seed: number,
  observer: ClusterObserver,
  profiles: readonly Profile[],
) => C;

export interface FinishedRun {
  result: ClusterRunResult;
  summary: RunSummary;
  expectations: ExpectationResult[];
  report: ReportData | null;
}

export class ScenarioRun<C extends ClusterCore> {
  readonly cluster: C;
  /** The selected profile first. */
  readonly profiles: ProfileName[];
  readonly sampler: ReportSampler | null;
  private readonly collector: ReportCollector | null;
  private readonly exporterErrors: InstanceExporterError[] = [];
  private readonly byFinishReason = Object.fromEntries(FINISH_REASONS.map((r) => [r, 0])) as Record<
    FinishReason,
    number
  >;

  constructor(
    readonly scenario: Scenario,
    private readonly options: ScenarioRunOptions,
    makeCluster: ClusterMaker<C>,
  ) {
    // `all` exports every profile side by side; the scenario's own profile stays the selected one.
    const selected =
      options.profile === undefined || options.profile === "all"
        ? scenario.metrics.profile
        : options.profile;
    this.profiles =
      options.profile === "all"
        ? [selected, ...PROFILE_NAMES.filter((p) => p !== selected)]
        : [selected];
    this.collector = options.report ? new ReportCollector() : null;
    this.cluster = makeCluster(
      scenario,
      options.seed,
      {
        onLog: options.onLog,
        onRequestFinished: (record) => {
          this.byFinishReason[record.finish_reason] += 1;
          options.onRequestFinished?.(record);
          this.collector?.requestFinished(record);
        },
        onExporterError: (error) => {
          this.exporterErrors.push(error);
          options.onExporterError?.(error);
        },
        ...(this.collector === null
          ? {}
          : { onTransfer: (record) => this.collector?.transfer(record) }),
      },
      this.profiles.map((p) => PROFILES[p]),
    );
    validateExpectationMetrics(scenario, this.cluster);
    this.sampler =
      this.collector === null
        ? null
        : new ReportSampler(
            this.cluster.instances.map((i) => ({
              name: i.name,
              exposition: i.statLoggers.prometheus,
            })),
          );
    const sampler = this.sampler;
    if (sampler !== null) {
      this.cluster.observe({
        onEngineStep: (instance, step) => sampler.onEngineStep(instance, step),
      });
    }
  }

  get selectedProfile(): ProfileName {
    return this.profiles[0]!;
  }

  /** Once the kernel has run dry and `finishRun` gave `result`: what the run came to. */
  finish(result: ClusterRunResult, wallSeconds: number): FinishedRun {
    const lookup: SampleLookup = (instance, name, labels) =>
      this.cluster.instances
        .find((i) => i.name === instance)
        ?.statLoggers.prometheus.sampleValue(name, labels);
    const expectations = checkExpectations(this.scenario.expect, lookup);
    const summary = buildSummary({
      cluster: this.cluster,
      result,
      byFinishReason: this.byFinishReason,
      profiles: this.profiles,
      seed: this.options.seed,
      wallSeconds,
      expectations,
      exporterErrors: this.exporterErrors,
    });
    const report =
      this.collector === null
        ? null
        : this.collector.build(
            this.sampler!,
            this.cluster.sim.lastWorkTime,
            this.cluster.instances,
            {
              scenario: this.scenario.name,
              profile: this.selectedProfile,
              seed: this.options.seed,
              hasSplit: PROFILES[this.selectedProfile].hasSourceSplit,
            },
          );
    return { result, summary, expectations, report };
  }
}
