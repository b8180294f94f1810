// The one kind of listener for whatever watches a run: `pdsim explain`'s request trace, the
// checkers' watched run, what `pdsim run` prints and writes, the tests. The cluster hands every
// event to each of its observers in the order they were added.

import type { SimTime } from "../../sim/index.ts";
import type {
  FabricListener,
  HoldOutcome,
  TransferRecord,
} from "../kv-transfer/transfer-fabric.ts";
import type {
  EngineStep,
  Instance,
  InstanceExporterError,
  InstanceObserver,
  LegRequest,
  LogLine,
} from "./instance.ts";
import type { InstanceLeg, RequestRecord } from "./request-record.ts";

/** Every instance's events, the KV-transfer fabric's, and the cluster's own; each hook optional. */
export interface ClusterObserver extends InstanceObserver, FabricListener {
  onLog?(line: LogLine): void;
  onRequestFinished?(record: RequestRecord): void;
  /**
   * A Prometheus scrape of every instance, at simulated time 0, every
   * `metrics.scrape_interval_s` while there is work, and once more stamped with the time the work
   * ended, the last event that was not a timer's tick (possibly the time of the scrape before).
   */
  onScrape?(time: SimTime): void;
}

/** Observers in the order they were added, each hook passed on to every one that has it. */
export class ObserverList implements Required<ClusterObserver> {
  private readonly observers: ClusterObserver[] = [];

  add(observer: ClusterObserver): void {
    this.observers.push(observer);
  }

  /** Whether any observer has `hook` (the scrape timer runs only for one). */
  has(hook: keyof ClusterObserver): boolean {
    return this.observers.some((o) => o[hook] !== undefined);
  }

  onLegArrived(instance: Instance, leg: LegRequest, time: SimTime): void {
    for (const o of this.observers) o.onLegArrived?.(instance, leg, time);
  }

  onLegRefused(instance: Instance, leg: LegRequest, error: string, time: SimTime): void {
    for (const o of this.observers) o.onLegRefused?.(instance, leg, error, time);
  }

  onEngineStep(instance: Instance, step: EngineStep): void {
    for (const o of this.observers) o.onEngineStep?.(instance, step);
  }

  onLegFinished(instance: Instance, requestId: string, leg: InstanceLeg, time: SimTime): void {
    for (const o of this.observers) o.onLegFinished?.(instance, requestId, leg, time);
  }

  onExporterError(error: InstanceExporterError): void {
    for (const o of this.observers) o.onExporterError?.(error);
  }

  onTransfer(record: TransferRecord): void {
    for (const o of this.observers) o.onTransfer?.(record);
  }

  onHoldEnded(engineId: string, requestId: string, outcome: HoldOutcome): void {
    for (const o of this.observers) o.onHoldEnded?.(engineId, requestId, outcome);
  }

  onLog(line: LogLine): void {
    for (const o of this.observers) o.onLog?.(line);
  }

  onRequestFinished(record: RequestRecord): void {
    for (const o of this.observers) o.onRequestFinished?.(record);
  }

  onScrape(time: SimTime): void {
    for (const o of this.observers) o.onScrape?.(time);
  }
}
