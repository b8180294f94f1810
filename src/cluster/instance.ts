// One vLLM server process in the cluster: an engine core, the front end's output processor and
// the stat loggers, fed by the proxy (vLLM's AsyncLLM with one engine, minus the HTTP layer).

import { type Simulation, type SimTime, usToSeconds } from "../../sim/index.ts";
import { ChurnMap } from "../util/churn-map.ts";
import { EngineCore } from "../engine/engine-core.ts";
import { type FinishedRequest, OutputProcessor } from "../engine/output-processor.ts";
import type { Prompt } from "../engine/prompt.ts";
import { type KvTransferParams, Request } from "../engine/request.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../engine/scheduler-output.ts";
import type { IterationStats } from "../engine/stats.ts";
import type { KVConnector } from "../engine/kv-connector.ts";
import { PrometheusStatLogger, StatLoggerManager } from "../metrics/index.ts";
import { PrefillLedger } from "../accounting/ledger.ts";
import { PROFILE_LIST, PROFILES, type Profile, report } from "../accounting/profiles.ts";
import type { ExporterError } from "../accounting/prompt-source-counters.ts";
import { TruthMetrics } from "../accounting/truth-metrics.ts";
import type { InstanceConfig, Scenario } from "../scenario/types.ts";
import { outputTokenIdSource } from "../workload/token-ids.ts";
import type { InstanceLeg, ProfileSources, ReportedSources } from "./request-record.ts";

/** What the proxy sends an instance: one leg of a client request. */
export interface LegRequest {
  id: string;
  prompt: Prompt;
  maxTokens: number;
  stopAfterTokens?: number;
  kvTransferParams?: KvTransferParams;
}

/** The leg as the instance finished it, and the kv_transfer_params of its last output. */
export type LegListener = (leg: InstanceLeg, kvTransferParams: KvTransferParams | null) => void;

/** Builds the instance's connector; `wake` restarts its engine when a transfer ends. */
export type ConnectorFactory = (wake: () => void) => KVConnector;

/** A log line as pdsim prints it: the logging stat logger's message, stamped and attributed. */
export interface LogLine {
  time: SimTime;
  instance: string;
  message: string;
}

/** An increment that the exposition of `profile` refused, as vLLM's exporter would have. */
export interface InstanceExporterError extends ExporterError {
  time: SimTime;
  instance: string;
  /** The profile's name. */
  profile: string;
}

/** One engine step: what the engine produced, and what the instance's front end made of it. */
export interface EngineStep {
  schedulerOutput: SchedulerOutput | null;
  outputs: EngineCoreOutputs;
  /** The output processor's view of the outputs: what the stat loggers record. */
  iterationStats: IterationStats;
  /** The requests the step finished, as the front end saw them. */
  finished: readonly FinishedRequest[];
}

/**
 * What an instance tells its observer as it runs (the cluster passes it on to every
 * `ClusterObserver`). Within one step the observer hears of each leg that finished, then of
 * the step itself, once the instance has acted on it: its loggers recorded it and its finished
 * legs went back to the proxy, which may already have sent their next leg.
 */
export interface InstanceObserver {
  /** A leg the instance accepted, before its engine sees it. */
  onLegArrived?(instance: Instance, leg: LegRequest, time: SimTime): void;
  /** A leg the front end refused (finish reason error); it never reached the engine. */
  onLegRefused?(instance: Instance, leg: LegRequest, error: string, time: SimTime): void;
  /** Every engine step, a pass that scheduled nothing included, once the instance acted on it. */
  onEngineStep?(instance: Instance, step: EngineStep): void;
  /** A leg the engine finished, as the instance hands it back to the proxy. */
  onLegFinished?(instance: Instance, requestId: string, leg: InstanceLeg, time: SimTime): void;
  /** An increment that an exposition refused as it recorded a step. */
  onExporterError?(error: InstanceExporterError): void;
}

/** Sees every engine step of one instance. */
type StepObserver = Required<Pick<InstanceObserver, "onEngineStep">>;

interface InFlight {
  request: Request;
  onDone: LegListener;
  kvTransferParams: KvTransferParams | null;
}

export class Instance {
  readonly name: string;
  readonly role: InstanceConfig["role"];
  readonly engine: EngineCore;
  /** The selected profile's loggers: the log line and the exposition `--out` writes first. */
  readonly statLoggers: StatLoggerManager;
  /** One exposition per profile asked for, the selected one first. */
  readonly expositions: PrometheusStatLogger[];
  private readonly outputProcessor = new OutputProcessor();
  private readonly ledger = new PrefillLedger();
  private readonly truth: TruthMetrics;
  /** The profiles each leg's `reported` covers: every known version, then any other exported. */
  private readonly reportedProfiles: readonly Profile[];
  private readonly inFlight = new ChurnMap<string, InFlight>();
  private readonly observer: InstanceObserver;
  private readonly recordStats: boolean;
  /**
   * Who sees each engine step, in this order: the ledger (and the truth families), which must
   * see a request's first output before its leg is handed back; the stat loggers (unless
   * `recordStats` is off), so that the increments a step's exporters refuse come out before the
   * legs it finished; the hand-back of those legs to the proxy; last the observer, once the
   * instance has acted on the step.
   */
  private readonly stepObservers: readonly StepObserver[];

  constructor(
    private readonly sim: Simulation,
    readonly config: InstanceConfig,
    scenario: Scenario,
    options: {
      makeConnector?: ConnectorFactory | null;
      /** The selected profile first; more to export every profile's numbers side by side. */
      profiles?: readonly Profile[];
      observer?: InstanceObserver;
      /** False: no stat logger records anything (`pdsim bench` measures what they cost). */
      recordStats?: boolean;
    } = {},
  ) {
    const makeConnector = options.makeConnector ?? null;
    const profiles = options.profiles ?? [PROFILES[scenario.metrics.profile]];
    this.observer = options.observer ?? {};
    this.recordStats = options.recordStats ?? true;
    this.name = config.name;
    this.role = config.role;
    const e = config.engine;
    const wake = (): void => this.engine.wake();
    this.engine = new EngineCore(
      sim,
      {
        blockSize: e.block_size,
        numGpuBlocks: e.num_gpu_blocks,
        enablePrefixCaching: e.enable_prefix_caching,
        maxModelLen: e.max_model_len,
        maxNumBatchedTokens: e.max_num_batched_tokens,
        maxNumSeqs: e.max_num_seqs,
        enableChunkedPrefill: e.enable_chunked_prefill,
        longPrefillTokenThreshold: e.long_prefill_token_threshold,
        reserveFullIsl: true,
        kvLoadFailurePolicy: scenario.kv_transfer.load_failure_policy,
      },
      config.step_time,
      (outputs, schedulerOutput) => this.onStep(outputs, schedulerOutput),
      makeConnector === null ? null : makeConnector(wake),
    );
    const loggerOptions = {
      modelName: scenario.metrics.model_name,
      engineIndex: 0,
      maxModelLen: e.max_model_len,
      maxNumBatchedTokens: e.max_num_batched_tokens,
      cacheConfigInfo: cacheConfigInfo(config),
    };
    this.statLoggers = new StatLoggerManager({
      ...loggerOptions,
      startTime: 0,
      profile: profiles[0]!,
    });
    this.expositions = [
      this.statLoggers.prometheus,
      ...profiles.slice(1).map(
        (profile) =>
          new PrometheusStatLogger({
            ...loggerOptions,
            profile,
            sharesCommonFamiliesOf: this.statLoggers.prometheus,
          }),
      ),
    ];
    this.truth = new TruthMetrics(this.expositions);
    this.reportedProfiles = [...PROFILE_LIST, ...profiles.filter((p) => !PROFILE_LIST.includes(p))];
    const own = (observe: (step: EngineStep) => void): StepObserver => ({
      onEngineStep: (_, step) => observe(step),
    });
    this.stepObservers = [
      own((step) => this.observePrefills(step)),
      ...(this.recordStats ? [own((step) => this.record(step))] : []),
      own((step) => this.handBack(step)),
      ...(this.observer.onEngineStep === undefined ? [] : [this.observer as StepObserver]),
    ];
  }

  /** Requests this instance holds that have not finished: vLLM's running + waiting. */
  get load(): number {
    return this.engine.scheduler.running.length + this.engine.scheduler.numWaiting;
  }

  get numUnfinished(): number {
    return this.inFlight.size;
  }

  /**
   * Accepts a request as vLLM's front end would: a prompt of max_model_len tokens or more is
   * refused before it reaches the engine (HTTP 400; no engine metric moves), since it leaves no
   * room for the one output token every request asks for.
   */
  submit(leg: LegRequest, onDone: LegListener): void {
    const now = this.sim.now;
    const n = leg.prompt.length;
    const maxModelLen = this.config.engine.max_model_len;
    if (n >= maxModelLen) {
      const plus =
        n === maxModelLen ? " plus the number of requested output tokens (at least 1)" : "";
      const error = `The decoder prompt (length ${n})${plus} is longer than the maximum model length of ${maxModelLen}.`;
      this.observer.onLegRefused?.(this, leg, error, now);
      onDone(this.refusedLeg(now, { error }), null);
      return;
    }
    this.observer.onLegArrived?.(this, leg, now);
    const request = new Request({
      requestId: leg.id,
      prompt: leg.prompt,
      maxTokens: leg.maxTokens,
      ...(leg.stopAfterTokens === undefined ? {} : { stopAfterTokens: leg.stopAfterTokens }),
      outputTokenId: outputTokenIdSource(leg.id),
      arrivalTime: now,
      blockSize: this.config.engine.block_size,
      kvTransferParams: leg.kvTransferParams === undefined ? null : { ...leg.kvTransferParams },
    });
    this.inFlight.set(leg.id, { request, onDone, kvTransferParams: null });
    this.outputProcessor.addRequest(leg.id, n, leg.maxTokens, now);
    this.ledger.add(leg.id, n);
    this.engine.addRequest(request);
  }

  /** Tokens of this prompt's prefix held in the local prefix cache; a read-only probe for routing. */
  cachedPrefixTokens(prompt: Prompt): number {
    return this.engine.kvCacheManager.numCachedPrefixTokens(prompt);
  }

  /** vLLM's periodic log line, at simulated time `now`; null when vLLM would log it at DEBUG. */
  logStats(now: SimTime): LogLine | null {
    const line = this.statLoggers.log(usToSeconds(now));
    if (line === null || line.level !== "info") return null;
    return { time: now, instance: this.name, message: line.message };
  }

  private onStep(outputs: EngineCoreOutputs, schedulerOutput: SchedulerOutput | null): void {
    for (const o of outputs.outputs) {
      if (o.kvTransferParams !== null)
        this.inFlight.get(o.requestId)!.kvTransferParams = o.kvTransferParams;
    }
    // Before the step observers: the loggers record its iteration stats and the hand-back takes
    // its finished requests; it reads only the outputs and its own request states.
    const { iterationStats, finished } = this.outputProcessor.processOutputs(outputs);
    const step: EngineStep = { schedulerOutput, outputs, iterationStats, finished };
    for (const observer of this.stepObservers) observer.onEngineStep(this, step);
  }

  /** The ledger folds the step in; each prefill that produced a first token counts in the truth. */
  private observePrefills({ schedulerOutput, outputs }: EngineStep): void {
    for (const first of this.ledger.observe(schedulerOutput, outputs)) {
      if (first.truth !== null && this.recordStats) this.truth.recordTruth(first.truth);
    }
  }

  /** Every stat logger records the step, and refused increments go to the observer. */
  private record({ outputs, iterationStats }: EngineStep): void {
    this.statLoggers.record(outputs.schedulerStats, iterationStats);
    for (let i = 1; i < this.expositions.length; i++) {
      this.expositions[i]!.record(outputs.schedulerStats, iterationStats);
    }
    for (const exposition of this.expositions) {
      for (const error of exposition.takeExporterErrors()) {
        this.observer.onExporterError?.({
          ...error,
          time: this.sim.now,
          instance: this.name,
          profile: exposition.profile.name,
        });
      }
    }
  }

  /** Each leg the step finished goes back to whoever sent it (the proxy), with its ledger. */
  private handBack({ finished }: EngineStep): void {
    for (const done of finished) {
      const id = done.stats.requestId;
      const flight = this.inFlight.get(id)!;
      this.inFlight.delete(id);
      const ledger = this.ledger.take(id);
      const produced = done.stats.numGenerationTokens > 0;
      const leg: InstanceLeg = {
        instance: this.name,
        role: this.role,
        arrival_s: done.arrivalTime,
        first_scheduled_s: done.scheduledTs,
        // A leg that ended without a token (a failed KV load under `fail`) has no first token.
        first_token_s: produced ? done.firstTokenTs : null,
        last_token_s: produced ? done.lastTokenTs : null,
        finish_reason: done.stats.finishReason,
        num_output_tokens: done.stats.numGenerationTokens,
        num_preemptions: flight.request.numPreemptions,
        // c and e as the first output carried them: what every version's formula read.
        num_cached_tokens: done.stats.promptTokenInputs.numCachedTokens,
        num_external_computed_tokens: done.stats.promptTokenInputs.numExternalComputedTokens,
        truth: ledger.truth,
        recomputed: ledger.recomputed,
        kv_transfer_tokens: ledger.transferredTokens,
        reported: reportedBy(this.reportedProfiles, done.stats.promptTokenInputs),
      };
      this.observer.onLegFinished?.(this, id, leg, this.sim.now);
      if (this.recordStats) this.truth.recordRecomputed(ledger.recomputed);
      flight.onDone(leg, flight.kvTransferParams);
    }
  }

  private refusedLeg(now: SimTime, extra: Partial<InstanceLeg>): InstanceLeg {
    return {
      instance: this.name,
      role: this.role,
      arrival_s: usToSeconds(now),
      first_scheduled_s: null,
      first_token_s: null,
      last_token_s: null,
      finish_reason: "error",
      num_output_tokens: 0,
      num_preemptions: 0,
      num_cached_tokens: -1,
      num_external_computed_tokens: 0,
      truth: null,
      recomputed: null,
      kv_transfer_tokens: 0,
      reported: null,
      ...extra,
    };
  }
}

/** What each of these vLLM versions would have reported for this leg's prompt, by name. */
function reportedBy(
  profiles: readonly Profile[],
  inputs: Parameters<typeof report>[1],
): ReportedSources {
  const out: Record<string, ProfileSources> = {};
  for (const profile of profiles) {
    const r = report(profile, inputs);
    out[profile.name] = r.hasSources
      ? {
          local_compute: r.localCompute,
          local_cache_hit: r.localCacheHit,
          external_kv_transfer: r.externalKvTransfer,
          cached: r.cached,
          prompt_tokens: r.promptTokensTotal,
          ...(r.recomputed === null ? {} : { recomputed: r.recomputed }),
        }
      : { prompt_throughput_tokens: r.logPromptTokens };
  }
  return out as ReportedSources;
}

/** The labels of `vllm:cache_config_info` that follow from the scenario. */
function cacheConfigInfo(config: InstanceConfig): Record<string, string> {
  const e = config.engine;
  return {
    block_size: String(e.block_size),
    enable_prefix_caching: e.enable_prefix_caching ? "True" : "False",
    num_gpu_blocks: String(e.num_gpu_blocks),
  };
}
