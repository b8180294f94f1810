// One run of a scenario with every profile exported and every engine step, transfer and finish
// visible to the invariant checkers, plus a digest of its outputs to compare runs by.

import { createHash } from "node:crypto";
import type { SimTime } from "../../sim/index.ts";
import { Cluster, type ClusterRunResult } from "../cluster/cluster.ts";
import type { Instance, InstanceExporterError, LogLine } from "../cluster/instance.ts";
import type { ClusterObserver } from "../cluster/observer.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../engine/scheduler-output.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";
import { PROFILE_LIST, PROFILES } from "../accounting/profiles.ts";
import type { Scenario } from "../scenario/types.ts";

export interface WatchedStep {
  instance: Instance;
  schedulerOutput: SchedulerOutput | null;
  outputs: EngineCoreOutputs;
}

export interface RunOutputs {
  result: ClusterRunResult | null;
  records: RequestRecord[];
  transfers: TransferRecord[];
  exporterErrors: InstanceExporterError[];
  logLines: LogLine[];
  /** Why the run stopped early (a stall, a broken internal assertion), or null. */
  error: string | null;
}

type Watcher<T> = (value: T) => void;

export class WatchedRun {
  readonly cluster: Cluster;
  private readonly stepWatchers: Watcher<WatchedStep>[] = [];
  private readonly timeWatchers: Watcher<SimTime>[] = [];
  private readonly pending: RunOutputs = emptyOutputs();
  private ran: RunOutputs | null = null;

  constructor(
    readonly scenario: Scenario,
    readonly seed: number,
  ) {
    this.cluster = WatchedRun.makeCluster(scenario, seed, this.collector(), (step) => {
      this.sawTime();
      for (const watch of this.stepWatchers) watch(step);
    });
  }

  /** Called after every engine step of every instance, once its loggers recorded it. */
  onStep(watch: Watcher<WatchedStep>): void {
    this.stepWatchers.push(watch);
  }

  /** Called with the clock at every step, transfer, finish and log line, in the order they ran. */
  onTime(watch: Watcher<SimTime>): void {
    this.timeWatchers.push(watch);
  }

  run(): RunOutputs {
    if (this.ran !== null) throw new Error("WatchedRun.run: already ran");
    const outputs = this.pending;
    try {
      outputs.result = this.cluster.run();
    } catch (error) {
      outputs.error = error instanceof Error ? error.message : String(error);
    }
    this.ran = outputs;
    return outputs;
  }

  get outputs(): RunOutputs {
    if (this.ran === null) throw new Error("WatchedRun.outputs: the run has not run yet");
    return this.ran;
  }

  /** A digest of everything the run produced: records, log lines and every exposition's samples. */
  digest(): string {
    return digestOf(this.cluster, this.outputs);
  }

  /** The same scenario and seed again, unwatched, digested the same way. */
  rerunDigest(): string {
    const outputs = emptyOutputs();
    const cluster = WatchedRun.makeCluster(this.scenario, this.seed, collectorInto(outputs), null);
    try {
      outputs.result = cluster.run();
    } catch (error) {
      outputs.error = error instanceof Error ? error.message : String(error);
    }
    return digestOf(cluster, outputs);
  }

  private collector(): RunObserver {
    const collect = collectorInto(this.pending);
    return {
      onRequestFinished: (record: RequestRecord) => {
        this.sawTime();
        collect.onRequestFinished(record);
      },
      onTransfer: (record: TransferRecord) => {
        this.sawTime();
        collect.onTransfer(record);
      },
      onExporterError: collect.onExporterError,
      onLog: (line: LogLine) => {
        this.sawTime();
        collect.onLog(line);
      },
    };
  }

  private sawTime(): void {
    const now = this.cluster.sim.now;
    for (const watch of this.timeWatchers) watch(now);
  }

  private static makeCluster(
    scenario: Scenario,
    seed: number,
    observer: RunObserver,
    onStep: Watcher<WatchedStep> | null,
  ): Cluster {
    const selected = PROFILES[scenario.metrics.profile];
    const profiles = [selected, ...PROFILE_LIST.filter((p) => p !== selected)];
    const cluster = new Cluster(scenario, seed, observer, profiles);
    if (onStep !== null) {
      cluster.observe({
        onEngineStep: (instance, { schedulerOutput, outputs }) =>
          onStep({ instance, schedulerOutput, outputs }),
      });
    }
    return cluster;
  }
}

function emptyOutputs(): RunOutputs {
  return {
    result: null,
    records: [],
    transfers: [],
    exporterErrors: [],
    logLines: [],
    error: null,
  };
}

type RunObserver = Required<
  Pick<ClusterObserver, "onRequestFinished" | "onTransfer" | "onExporterError" | "onLog">
>;

function collectorInto(outputs: RunOutputs): RunObserver {
  return {
    onRequestFinished: (record) => void outputs.records.push(record),
    onTransfer: (record) => void outputs.transfers.push(record),
    onExporterError: (error) => void outputs.exporterErrors.push(error),
    onLog: (line) => void outputs.logLines.push(line),
  };
}

function digestOf(cluster: Cluster, outputs: RunOutputs): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([outputs.result, outputs.error]));
  for (const record of outputs.records) hash.update(JSON.stringify(record));
  for (const line of outputs.logLines) hash.update(JSON.stringify(line));
  for (const error of outputs.exporterErrors) hash.update(JSON.stringify(error));
  for (const instance of cluster.instances) {
    for (const exposition of instance.expositions) {
      hash.update(`${instance.name}/${exposition.profile.name}`);
      hash.update(JSON.stringify(exposition.samples()));
    }
  }
  return hash.digest("hex");
}
