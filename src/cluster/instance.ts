// One vLLM server process in the cluster: an engine core, the front end's output processor and
// the stat loggers, fed by the proxy (vLLM's AsyncLLM with one engine, minus the HTTP layer).

import { type Simulation, type SimTime, usToSeconds } from "../../sim/index.ts";
import { hashBlockTokens, NONE_HASH } from "../engine/block-hash.ts";
import { EngineCore } from "../engine/engine-core.ts";
import { OutputProcessor } from "../engine/output-processor.ts";
import { Request } from "../engine/request.ts";
import type { EngineCoreOutputs } from "../engine/scheduler-output.ts";
import type { KVConnector, KvTransferParams } from "../kv-transfer/connector.ts";
import { StatLoggerManager } from "../metrics/index.ts";
import type { InstanceConfig, Scenario } from "../scenario/types.ts";
import { outputTokenIdSource } from "../workload/token-ids.ts";
import type { InstanceLeg, PrefillSources } from "./request-record.ts";

/** What the proxy sends an instance: one leg of a client request. */
export interface LegRequest {
  id: string;
  promptTokenIds: readonly number[];
  maxTokens: number;
  stopAfterTokens?: number;
  kvTransferParams?: KvTransferParams;
}

/** The leg as the instance finished it, and the kv_transfer_params of its last output. */
export type LegListener = (leg: InstanceLeg, kvTransferParams: KvTransferParams | null) => void;

/** Builds the instance's connector; `wake` restarts its engine when a transfer ends. */
export type ConnectorFactory = (wake: () => void) => KVConnector;

export interface LogLine {
  time: SimTime;
  instance: string;
  message: string;
}

interface InFlight {
  request: Request;
  onDone: LegListener;
  prefill: PrefillSources | null;
  kvTransferParams: KvTransferParams | null;
}

export class Instance {
  readonly name: string;
  readonly role: InstanceConfig["role"];
  readonly engine: EngineCore;
  readonly statLoggers: StatLoggerManager;
  private readonly outputProcessor = new OutputProcessor();
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly sim: Simulation,
    readonly config: InstanceConfig,
    scenario: Scenario,
    makeConnector: ConnectorFactory | null = null,
  ) {
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
      {
        baseMs: scenario.model.step_time.base_ms,
        perPrefillTokenUs: scenario.model.step_time.per_prefill_token_us,
        perDecodeSeqUs: scenario.model.step_time.per_decode_seq_us,
        perContextTokenNs: scenario.model.step_time.per_context_token_ns,
      },
      (outputs) => this.onStep(outputs),
      makeConnector === null ? null : makeConnector(wake),
    );
    this.statLoggers = new StatLoggerManager({
      modelName: scenario.metrics.model_name,
      engineIndex: 0,
      maxModelLen: e.max_model_len,
      maxNumBatchedTokens: e.max_num_batched_tokens,
      startTime: 0,
      cacheConfigInfo: cacheConfigInfo(config),
    });
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
    const n = leg.promptTokenIds.length;
    const maxModelLen = this.config.engine.max_model_len;
    if (n >= maxModelLen) {
      const plus =
        n === maxModelLen ? " plus the number of requested output tokens (at least 1)" : "";
      onDone(
        this.refusedLeg(now, {
          error: `The decoder prompt (length ${n})${plus} is longer than the maximum model length of ${maxModelLen}.`,
        }),
        null,
      );
      return;
    }
    const request = new Request({
      requestId: leg.id,
      promptTokenIds: leg.promptTokenIds,
      maxTokens: leg.maxTokens,
      ...(leg.stopAfterTokens === undefined ? {} : { stopAfterTokens: leg.stopAfterTokens }),
      outputTokenId: outputTokenIdSource(leg.id),
      arrivalTime: now,
      blockSize: this.config.engine.block_size,
      kvTransferParams: leg.kvTransferParams === undefined ? null : { ...leg.kvTransferParams },
    });
    this.inFlight.set(leg.id, { request, onDone, prefill: null, kvTransferParams: null });
    this.outputProcessor.addRequest(leg.id, n, leg.maxTokens, now);
    this.engine.addRequest(request);
  }

  /** Tokens of this prompt's prefix held in the local prefix cache; a read-only probe for routing. */
  cachedPrefixTokens(promptTokenIds: readonly number[]): number {
    const e = this.config.engine;
    if (!e.enable_prefix_caching) return 0;
    const pool = this.engine.kvCacheManager.blockPool;
    const maxBlocks = Math.floor((promptTokenIds.length - 1) / e.block_size);
    let parent = NONE_HASH;
    let hits = 0;
    for (let i = 0; i < maxBlocks; i++) {
      parent = hashBlockTokens(parent, promptTokenIds, i * e.block_size, e.block_size);
      if (pool.getCachedBlock(parent) === null) break;
      hits += 1;
    }
    return hits * e.block_size;
  }

  /** vLLM's periodic log line, at simulated time `now`; null when vLLM would log it at DEBUG. */
  logStats(now: SimTime): LogLine | null {
    const line = this.statLoggers.log(usToSeconds(now));
    if (line === null || line.level !== "info") return null;
    return { time: now, instance: this.name, message: line.message };
  }

  private onStep(outputs: EngineCoreOutputs): void {
    for (const o of outputs.outputs) {
      const flight = this.inFlight.get(o.requestId)!;
      if (o.kvTransferParams !== null) flight.kvTransferParams = o.kvTransferParams;
      if (o.prefillStats === null) continue;
      const p = o.prefillStats;
      flight.prefill = {
        local_compute: p.numPromptTokens - p.localCacheHit - p.externalKvTransfer,
        local_cache_hit: p.localCacheHit,
        external_kv_transfer: p.externalKvTransfer,
      };
    }
    const { iterationStats, finished } = this.outputProcessor.processOutputs(outputs);
    this.statLoggers.record(outputs.schedulerStats, iterationStats);
    for (const done of finished) {
      const id = done.stats.requestId;
      const flight = this.inFlight.get(id)!;
      this.inFlight.delete(id);
      flight.onDone(
        {
          instance: this.name,
          role: this.role,
          arrival_s: done.arrivalTime,
          first_scheduled_s: done.scheduledTs,
          // A leg that ended without a token (a failed KV load under `fail`) has no first token.
          first_token_s: done.stats.numGenerationTokens > 0 ? done.firstTokenTs : null,
          last_token_s: done.stats.numGenerationTokens > 0 ? done.lastTokenTs : null,
          finish_reason: done.stats.finishReason,
          num_output_tokens: done.stats.numGenerationTokens,
          num_preemptions: flight.request.numPreemptions,
          num_cached_tokens: flight.request.numCachedTokens,
          num_external_computed_tokens: flight.request.numExternalComputedTokens,
          prefill: flight.prefill,
        },
        flight.kvTransferParams,
      );
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
      prefill: null,
      ...extra,
    };
  }
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
