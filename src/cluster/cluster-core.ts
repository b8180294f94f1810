// The whole simulated deployment: instances on one kernel, the KV-transfer fabric between the
// prefill and decode instances, the proxy in front, the workload arriving, and each instance's
// periodic log line. It is handed the workload's opener, so that it runs in a browser too
// (cluster.ts is the one with every workload kind, for Node).

import {
  RngStreams,
  Simulation,
  type SimTime,
  msToUs,
  secondsToUs,
  usToSeconds,
} from "../../sim/index.ts";
import { NixlConnector } from "../kv-transfer/nixl-connector.ts";
import { P2pNcclConnector } from "../kv-transfer/p2p-nccl-connector.ts";
import { TransferFabric } from "../kv-transfer/transfer-fabric.ts";
import { TransferMetrics } from "../metrics/transfer-metrics.ts";
import { OffloadMetrics } from "../metrics/offload-metrics.ts";
import type { ConnectorEntry, InstanceConfig, Scenario } from "../scenario/types.ts";
import {
  connectorEntriesOf,
  connectorSpecOf,
  pdConnectorOf,
  usesTier,
} from "../scenario/connector-spec.ts";
import { KvCacheTier } from "../kv-offload/kv-cache-tier.ts";
import { LmCacheConnector } from "../kv-offload/lmcache-connector.ts";
import { MultiConnector } from "../kv-offload/multi-connector.ts";
import { OffloadingConnector } from "../kv-offload/offloading-connector.ts";
import type { LinkConfig } from "../kv-transfer/link.ts";
import type { ClientRequest } from "../workload/client-request.ts";
import type { WorkloadOpener } from "../workload/in-memory-workload.ts";
import { Clients } from "./clients.ts";
import { type ConnectorFactory, Instance } from "./instance.ts";
import { PROFILES, type Profile } from "../accounting/profiles.ts";
import { type ClusterObserver, ObserverList } from "./observer.ts";
import { PdProxy } from "./pd-proxy.ts";
import { makeRouter } from "./routers.ts";
import type { InstanceLeg } from "./request-record.ts";

export interface ClusterRunResult {
  requestsArrived: number;
  requestsFinished: number;
  /** When the last request finished (the makespan). */
  lastFinishTime: SimTime;
  events: number;
}

/**
 * Reads the cluster's state at fixed simulated times, between events: what the report's charts
 * draw. It adds no event, so a sampled run computes what an unsampled one does.
 */
export interface RunSampler {
  /** The next time to sample at; every event up to and including it runs first. */
  readonly nextTime: SimTime;
  sample(time: SimTime): void;
}

export interface ClusterOptions {
  /** Whether the engines record stats (the benchmarks' baseline turns them off). */
  recordStats?: boolean;
  openWorkload: WorkloadOpener;
}

export class ClusterCore {
  readonly sim = new Simulation();
  readonly instances: Instance[];
  readonly fabric: TransferFabric | null;
  private readonly proxy: PdProxy;
  private readonly clients: Clients;
  /** How many requests the workload sends. */
  readonly workloadSize: number;
  private requestsArrived = 0;
  private requestsFinished = 0;
  private lastFinishTime: SimTime = 0;
  private scrapeEvents = 0;
  private started = false;
  private readonly observers = new ObserverList();
  /** Per instance, one per exposition (every profile exports the transfer families). */
  private readonly transferMetrics = new Map<string, TransferMetrics[]>();
  /** Per instance with an offloading connector, one per exposition. */
  private readonly offloadMetrics = new Map<string, OffloadMetrics[]>();
  /** External KV cache tiers by name (`tier@instance` for an instance-scoped one). */
  readonly tiers = new Map<string, KvCacheTier>();

  /**
   * `observer` is the first to see the run's events (`observe` adds more); `profiles` lists the
   * accounting profiles to export, the selected one first (default: the scenario's
   * metrics.profile alone).
   */
  constructor(
    readonly scenario: Scenario,
    seed: number,
    observer: ClusterObserver = {},
    profiles: readonly Profile[] = [PROFILES[scenario.metrics.profile]],
    options: ClusterOptions,
  ) {
    this.observers.add(observer);
    const rng = new RngStreams(seed);
    const disaggregated = scenario.instances.some((i) => i.role !== "unified");
    this.fabric = disaggregated ? this.makeFabric(rng) : null;
    this.instances = scenario.instances.map(
      (config) =>
        new Instance(this.sim, config, scenario, {
          makeConnector: this.connectorFor(config),
          profiles,
          recordStats: options.recordStats ?? true,
          observer: this.observers,
        }),
    );
    const ofRole = (role: Instance["role"]) => this.instances.filter((i) => i.role === role);
    const names = (role: Instance["role"]) => ofRole(role).map((i) => i.name);
    for (const instance of this.instances) {
      if (instance.role === "unified") continue;
      const send = instance.role === "prefill";
      const peers = names(send ? "decode" : "prefill");
      this.transferMetrics.set(
        instance.name,
        instance.expositions.map((e) => new TransferMetrics(e, peers, send ? "send" : "recv")),
      );
    }
    for (const instance of this.instances) {
      const spec = connectorSpecOf(scenario.kv_transfer, instance.config);
      if (!connectorEntriesOf(spec).some((e) => e.connector === "offloading")) continue;
      this.offloadMetrics.set(
        instance.name,
        instance.expositions.map((e) => new OffloadMetrics(e)),
      );
    }
    const p = scenario.proxy;
    const unified = ofRole("unified");
    this.proxy = new PdProxy({
      unified: unified.length > 0 ? makeRouter(p.unified_policy, unified) : null,
      prefill: disaggregated ? makeRouter(p.prefill_policy, ofRole("prefill")) : null,
      decode: disaggregated ? makeRouter(p.decode_policy, ofRole("decode")) : null,
      pdMinPromptTokens: p.pd_min_prompt_tokens,
      connector: pdKindOf(scenario),
    });
    const workload = options.openWorkload(scenario.workload, rng, {
      shortestTimerS: Math.min(
        scenario.metrics.scrape_interval_s,
        ...scenario.instances.map((i) => i.engine.log_stats_interval_s),
      ),
    });
    this.workloadSize = workload.totalRequests;
    this.clients = new Clients(this.sim, workload, scenario.workload.concurrency, (request) => {
      this.requestsArrived += 1;
      this.proxy.serve(request, (legs) => this.finish(request, legs));
    });
  }

  /** How many requests have finished so far. */
  get requestsDone(): number {
    return this.requestsFinished;
  }

  /** Adds an observer after the one the constructor took; call before run(). */
  observe(observer: ClusterObserver): void {
    if (this.started) throw new Error("Cluster.observe: the run has started");
    this.observers.add(observer);
  }

  run(): ClusterRunResult {
    this.start();
    this.sim.run();
    return this.finishRun();
  }

  /**
   * Runs at most `maxEvents` events after `start`, stopping at the sampler's next time to let it
   * sample; false once no event is left (then `finishRun`).
   */
  advance(maxEvents: number, sampler: RunSampler | null = null): boolean {
    // Once only periodic timers are left the work has ended, and with it what a sampler reads.
    if (sampler === null || this.sim.pendingWork === 0) {
      this.sim.run({ maxEvents });
    } else {
      const until = sampler.nextTime;
      this.sim.run({ maxEvents, until });
      const next = this.sim.nextEventTime;
      // A sample past the work's end would be dropped (the sampler adds one at the end itself).
      if ((next === null || next > until) && this.sim.pendingWork > 0) sampler.sample(until);
    }
    return this.sim.pendingEvents > 0;
  }

  /** Schedules the first arrival and the periodic timers; then step the kernel, then `finishRun`. */
  start(): void {
    this.started = true;
    this.clients.start();
    for (const instance of this.instances) this.startLogTimer(instance);
    if (this.observers.has("onScrape")) this.startScrapeTimer();
  }

  /** Once the kernel has run dry: the last scrape, and what the run came to. */
  finishRun(): ClusterRunResult {
    this.observers.onScrape(this.sim.lastWorkTime);
    return {
      requestsArrived: this.requestsArrived,
      requestsFinished: this.requestsFinished,
      lastFinishTime: this.lastFinishTime,
      // The simulation's own events: scrapes watch it and are there only with --out.
      events: this.sim.eventsProcessed - this.scrapeEvents,
    };
  }

  hasWork(): boolean {
    if (this.clients.arrivalsPending) return true;
    return this.instances.some((i) => i.numUnfinished > 0) || (this.fabric?.numHeld ?? 0) > 0;
  }

  private makeFabric(rng: RngStreams): TransferFabric {
    const kv = this.scenario.kv_transfer;
    return new TransferFabric(
      this.sim,
      {
        linkLatencyUs: msToUs(kv.link.latency_ms),
        bandwidthBytesPerS: kv.link.bandwidth_gb_per_s * 1e9,
        kvBytesPerToken: this.scenario.model.kv_bytes_per_token,
        leaseUs: secondsToUs(kv.lease_s),
        loadFailureProbability: kv.faults.load_failure_probability,
        faults: rng.derive("kv_transfer").stream("faults"),
      },
      {
        onTransfer: (record) => {
          for (const m of this.transferMetrics.get(record.from)!)
            m.recordTransfer(record.to, record);
          for (const m of this.transferMetrics.get(record.to)!)
            m.recordTransfer(record.from, record);
          this.observers.onTransfer(record);
        },
        onHoldEnded: (engineId, requestId, outcome) => {
          for (const m of this.transferMetrics.get(engineId)!) m.recordHoldEnded(outcome);
          this.observers.onHoldEnded(engineId, requestId, outcome);
        },
      },
    );
  }

  /**
   * The instance's connector: its P/D connector (none on a unified instance, which serves whole
   * requests) and its tier connectors, behind a MultiConnector when there are several.
   */
  private connectorFor(config: InstanceConfig): ConnectorFactory | null {
    const spec = connectorSpecOf(this.scenario.kv_transfer, config);
    const entries = connectorEntriesOf(spec).filter(
      (entry) => usesTier(entry) || config.role !== "unified",
    );
    if (entries.length === 0) {
      // The loader refuses prefill and decode instances without a P/D connector.
      if (config.role !== "unified") throw new Error(`instance ${config.name} has no connector`);
      return null;
    }
    const makers = entries.map((entry) => this.connectorMaker(config, entry));
    if (spec.connector !== "multi") return makers[0]!;
    return (wake) => new MultiConnector(makers.map((make) => make(wake)));
  }

  private connectorMaker(config: InstanceConfig, entry: ConnectorEntry): ConnectorFactory {
    const { name, role } = config;
    const blockSize = config.engine.block_size;
    const fabric = (): TransferFabric => {
      if (this.fabric === null) throw new Error(`instance ${name}: ${entry.connector} without P/D`);
      return this.fabric;
    };
    switch (entry.connector) {
      case "nixl":
        return (wake) => new NixlConnector(name, blockSize, fabric(), wake);
      case "p2p_nccl":
        return () =>
          new P2pNcclConnector(name, role === "prefill" ? "kv_producer" : "kv_consumer", fabric());
      case "offloading":
        return (wake) =>
          new OffloadingConnector(this.tierFor(entry.tier!, name), blockSize, wake, (type, t) => {
            const seconds = (t.endTime - t.startTime) / 1e6;
            for (const m of this.offloadMetrics.get(name)!) m.record(type, t.bytes, seconds);
          });
      case "lmcache":
        return () => new LmCacheConnector(this.tierFor(entry.tier!, name));
      case "none":
      case "multi":
        // The loader refuses both inside a multi list.
        throw new Error(`instance ${name}: connector ${entry.connector} in a connector list`);
    }
  }

  /** The tier an instance uses: its own copy of an instance-scoped tier, or the shared one. */
  private tierFor(tierName: string, instanceName: string): KvCacheTier {
    const spec = this.scenario.kv_cache_tiers.find((t) => t.name === tierName);
    if (spec === undefined) throw new Error(`no kv_cache_tiers entry named ${tierName}`);
    const key = spec.scope === "cluster" ? spec.name : `${spec.name}@${instanceName}`;
    let tier = this.tiers.get(key);
    if (tier === undefined) {
      tier = new KvCacheTier(this.sim, {
        name: key,
        capacityChunks: Math.floor(spec.capacity_tokens / spec.chunk_tokens),
        chunkTokens: spec.chunk_tokens,
        kvBytesPerToken: this.scenario.model.kv_bytes_per_token,
        load: linkConfig(spec.load),
        store: linkConfig(spec.store),
      });
      this.tiers.set(key, tier);
    }
    return tier;
  }

  private finish(client: ClientRequest, legs: InstanceLeg[]): void {
    this.requestsFinished += 1;
    this.lastFinishTime = this.sim.now;
    const last = legs[legs.length - 1]!;

    this.observers.onRequestFinished({
      id: client.id,
      arrival_s: usToSeconds(client.arrivalTime),
      prompt_tokens: client.prompt.length,
      max_tokens: client.maxTokens,
      prefix_group: client.prefixGroup ?? null,
      finish_reason: last.finish_reason,
      first_token_s: last.first_token_s,
      finish_s: usToSeconds(this.sim.now),
      legs,
    });
    // After the record: a waiting request sent now arrives after this one finished.
    this.clients.finished({
      request: client,
      outputTokens: last.num_output_tokens,
      time: this.sim.now,
    });
  }

  /** Logs at every interval while there is work, and until vLLM would drop to DEBUG once drained. */
  private startLogTimer(instance: Instance): void {
    const interval = secondsToUs(instance.config.engine.log_stats_interval_s);
    const tick = (): void => {
      const line = instance.logStats(this.sim.now);
      if (line !== null) this.observers.onLog(line);
      if (line !== null || this.hasWork()) {
        this.assertProgressPossible();
        this.sim.scheduleDaemon(interval, tick);
      }
    };
    this.sim.scheduleDaemon(interval, tick);
  }

  /**
   * A scrape at time 0 and at every interval while there is work (`onScrape` sees each); the
   * last one is finishRun's, at the time the work ended.
   */
  private startScrapeTimer(): void {
    const interval = secondsToUs(this.scenario.metrics.scrape_interval_s);
    const tick = (): void => {
      this.scrapeEvents += 1;
      if (!this.hasWork()) return;
      this.observers.onScrape(this.sim.now);
      this.assertProgressPossible();
      this.sim.scheduleDaemon(interval, tick);
    };
    this.observers.onScrape(this.sim.now);
    this.sim.scheduleDaemon(interval, tick);
  }

  /**
   * Unfinished requests with nothing but timers left to run can never finish; without this
   * check the timers would tick forever.
   */
  private assertProgressPossible(): void {
    if (this.sim.pendingWork > 0 || !this.hasWork()) return;
    const stuck = this.instances.filter((i) => i.numUnfinished > 0).map(stallOf);
    throw new SimulationStalled(
      `the simulation stalled at t=${usToSeconds(this.sim.now)} s: ${stuck.join("; ")}`,
    );
  }
}

/**
 * The deployment cannot finish its workload: every instance with unfinished requests waits for
 * something that will not happen. With async KV loads this is a deadlock vLLM's scheduler can
 * reach as well: waiting requests hold the blocks their loads filled, and none has room to grow.
 */
export class SimulationStalled extends Error {}

/** What an instance that cannot go on is waiting for, for the message. */
function stallOf(instance: Instance): string {
  const scheduler = instance.engine.scheduler;
  const kv = instance.engine.kvCacheManager;
  const waiting = scheduler.waitingRequests();
  const holding = waiting.filter((r) => (r.kvBlocks?.ids.length ?? 0) > 0);
  const held = holding.reduce((sum, r) => sum + r.kvBlocks!.ids.length, 0);
  let text =
    `${instance.name}: ${instance.numUnfinished} unfinished (running ${scheduler.running.length}, ` +
    `waiting ${scheduler.numWaiting}), ${kv.blockPool.getNumFreeBlocks()} blocks free`;
  if (holding.length > 0) {
    const head = waiting[0]!;
    const needed = Math.ceil(head.numTokens / kv.blockSize) - (head.kvBlocks?.ids.length ?? 0);
    text +=
      `; ${holding.length} waiting requests hold ${held} blocks their KV loads filled, and the ` +
      `first in line, ${head.requestId}, needs ${needed} more: no request can grow and none ` +
      `runs to be preempted (vLLM's scheduler admits and preempts the same way); give the instance more ` +
      `blocks, or its tier connector less to load at once`;
  }
  return text;
}

function linkConfig(path: { latency_ms: number; bandwidth_gb_per_s: number }): LinkConfig {
  return { latencyUs: msToUs(path.latency_ms), bandwidthBytesPerS: path.bandwidth_gb_per_s * 1e9 };
}

/** How KV moves from prefill to decode instances: the loader makes them all agree. */
function pdKindOf(scenario: Scenario): "nixl" | "p2p_nccl" {
  const first = scenario.instances.find((i) => i.role !== "unified");
  if (first === undefined) return "nixl";
  return pdConnectorOf(connectorSpecOf(scenario.kv_transfer, first)) ?? "nixl";
}
