// The whole simulated deployment: instances on one kernel, the proxy in front, the workload
// arriving, and each instance's periodic log line.

import { RngStreams, Simulation, type SimTime, secondsToUs, usToSeconds } from "../../sim/index.ts";
import type { Scenario } from "../scenario/types.ts";
import { type WorkloadSource, workloadSource } from "../workload/workload.ts";
import type { ClientRequest } from "../workload/workload.ts";
import { Instance, type LogLine } from "./instance.ts";
import { type Router, makeRouter } from "./proxy.ts";
import type { InstanceLeg, RequestRecord } from "./request-record.ts";

export interface ClusterListener {
  onLog?(line: LogLine): void;
  onRequestFinished?(record: RequestRecord): void;
}

export interface ClusterRunResult {
  requestsArrived: number;
  requestsFinished: number;
  /** When the last request finished (the makespan). */
  lastFinishTime: SimTime;
  events: number;
}

export class Cluster {
  readonly sim = new Simulation();
  readonly instances: Instance[];
  private readonly router: Router;
  private readonly workload: WorkloadSource;
  private arrivalsPending = true;
  private requestsArrived = 0;
  private requestsFinished = 0;
  private lastFinishTime: SimTime = 0;
  private liveLogTimers = 0;

  constructor(
    readonly scenario: Scenario,
    seed: number,
    private readonly listener: ClusterListener = {},
  ) {
    this.instances = scenario.instances.map((config) => new Instance(this.sim, config, scenario));
    const unified = this.instances.filter((i) => i.role === "unified");
    this.router = makeRouter(scenario.proxy.unified_policy, unified);
    this.workload = workloadSource(scenario.workload, new RngStreams(seed));
  }

  run(): ClusterRunResult {
    this.scheduleNextArrival();
    for (const instance of this.instances) this.startLogTimer(instance);
    this.sim.run();
    return {
      requestsArrived: this.requestsArrived,
      requestsFinished: this.requestsFinished,
      lastFinishTime: this.lastFinishTime,
      events: this.sim.eventsProcessed,
    };
  }

  hasWork(): boolean {
    if (this.arrivalsPending) return true;
    return this.instances.some((i) => i.numUnfinished > 0);
  }

  private scheduleNextArrival(): void {
    const next = this.workload.next();
    if (next === null) {
      this.arrivalsPending = false;
      return;
    }
    this.sim.scheduleAt(Math.max(next.arrivalTime, this.sim.now), () => {
      this.arrive(next);
      this.scheduleNextArrival();
    });
  }

  private arrive(client: ClientRequest): void {
    this.requestsArrived += 1;
    const instance = this.router.pick(client.promptTokenIds);
    instance.submit(client, (leg) => this.finish(client, [leg]));
  }

  private finish(client: ClientRequest, legs: InstanceLeg[]): void {
    this.requestsFinished += 1;
    this.lastFinishTime = this.sim.now;
    const last = legs[legs.length - 1]!;
    this.listener.onRequestFinished?.({
      id: client.id,
      arrival_s: usToSeconds(client.arrivalTime),
      prompt_tokens: client.promptTokenIds.length,
      max_tokens: client.maxTokens,
      prefix_group: client.prefixGroup ?? null,
      finish_reason: last.finish_reason,
      first_token_s: last.first_token_s,
      finish_s: usToSeconds(this.sim.now),
      legs,
    });
  }

  /** Logs at every interval while there is work, and until vLLM would drop to DEBUG once drained. */
  private startLogTimer(instance: Instance): void {
    const interval = secondsToUs(instance.config.engine.log_stats_interval_s);
    const tick = (): void => {
      this.liveLogTimers -= 1;
      const line = instance.logStats(this.sim.now);
      if (line !== null) this.listener.onLog?.(line);
      if (line !== null || this.hasWork()) {
        this.assertProgressPossible();
        this.sim.schedule(interval, tick);
        this.liveLogTimers += 1;
      }
    };
    this.sim.schedule(interval, tick);
    this.liveLogTimers += 1;
  }

  /**
   * Unfinished requests with nothing but log timers left to run can never finish; without this
   * check the timers would tick forever.
   */
  private assertProgressPossible(): void {
    if (this.sim.pendingEvents > this.liveLogTimers || !this.hasWork()) return;
    const stuck = this.instances
      .filter((i) => i.numUnfinished > 0)
      .map(
        (i) =>
          `${i.name}: ${i.numUnfinished} unfinished (running ${i.engine.scheduler.running.length}, waiting ${i.engine.scheduler.waiting.length})`,
      );
    throw new Error(`simulation stalled at t=${usToSeconds(this.sim.now)}s: ${stuck.join("; ")}`);
  }
}
