// Decides, each step, which requests run and how many tokens each gets; mirrors
// vllm/v1/core/sched/scheduler.py (Scheduler.schedule, update_from_output) with the FCFS policy,
// without speculative decoding, encoder inputs, LoRA or structured output.

import type { SimTime } from "../../sim/index.ts";
import { ChurnMap, ChurnSet } from "../util/churn-map.ts";
import { type AppendOnly, append, nothing } from "../util/lists.ts";
import type { KVCacheBlock } from "./block-pool.ts";
import type { KVCacheManager } from "./kv-cache-manager.ts";
import type { KVConnector } from "./kv-connector.ts";
import { RequestQueue } from "./request-queue.ts";
import type { RequestStatus } from "./request-status.ts";
import type { KvTransferParams, Request } from "./request.ts";
import type {
  Admission,
  EngineCoreOutput,
  Promotion,
  EngineCoreOutputs,
  Preemption,
  ScheduledRequest,
  SchedulerOutput,
} from "./scheduler-output.ts";
import { NO_PREFIX_CACHE_LOOKUPS, PrefixCacheStats, type SchedulerStats } from "./stats.ts";

export interface SchedulerConfig {
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  maxModelLen: number;
  enableChunkedPrefill: boolean;
  /** 0 = off; otherwise the most tokens one request may prefill in one step. */
  longPrefillTokenThreshold: number;
  /** Admit a waiting request only if its whole sequence fits in free blocks (vLLM's default). */
  reserveFullIsl: boolean;
  /** What a failed KV load leads to: an `error` finish, or recomputing what did not arrive. */
  kvLoadFailurePolicy: "fail" | "recompute";
}

/**
 * One schedule() call's result as the call builds it, handed to the helpers that add to it and
 * returned as the SchedulerOutput: what was scheduled, the token budget left, and the facts
 * observers (the ledger) read. A list the step has nothing for stays the shared empty list.
 */
interface ScheduleResult {
  readonly scheduled: ScheduledRequest[];
  tokenBudget: number;
  preempted: AppendOnly<Preemption>;
  admissions: AppendOnly<Admission>;
  promotions: AppendOnly<Promotion>;
  /** Requests whose external KV a synchronous connector loads during this step. */
  syncLoadRequestIds: AppendOnly<string>;
}

/**
 * What is already computed of a waiting request, under vLLM's names for schedule()'s locals:
 *
 *   | new local computed (prefix hit) | external (connector) | new | ← request.numTokens
 *   |<----------------- numComputedTokens ------------------>|
 *
 * A request promoted after an async load skips the lookup: its numComputedTokens is what the
 * load left, and the other counts are 0.
 */
interface ComputedTokens {
  didPrefixCacheLookup: boolean;
  newComputedBlocks: KVCacheBlock[];
  numNewLocalComputedTokens: number;
  /** Cached tokens the N − 1 cap left out (computed although cached). */
  numCappedTokens: number;
  numExternalComputedTokens: number;
  /** The connector loads the external tokens asynchronously: no tokens are scheduled now. */
  loadKvAsync: boolean;
  /** Where the connector found the external tokens, when it says. */
  via?: string;
  numComputedTokens: number;
}

export class Scheduler {
  readonly waiting = new RequestQueue();
  /**
   * Requests blocked on a remote KV load. Current vLLM scans them before `waiting`, so a load
   * that has arrived is promoted even when the head of `waiting` cannot be admitted.
   */
  readonly skippedWaiting = new RequestQueue();
  running: Request[] = [];
  /** Every request this engine holds, including finished ones whose blocks a remote reader still needs. */
  private readonly requests = new ChurnMap<string, Request>();
  private readonly finishedRecvingKvReqIds = new ChurnSet<string>();
  private readonly failedRecvingKvReqIds = new ChurnSet<string>();
  /** Outputs of requests finished outside a model step (a failed KV load under `fail`). */
  private pendingOutputs: AppendOnly<EngineCoreOutput> = nothing();
  /** Connector lookups of this step; made at the first one. */
  private connectorPrefixCacheStats: PrefixCacheStats | null = null;

  constructor(
    readonly config: SchedulerConfig,
    readonly kvCacheManager: KVCacheManager,
    readonly connector: KVConnector | null = null,
  ) {}

  addRequest(request: Request, now: SimTime): void {
    if (this.requests.has(request.requestId)) {
      throw new Error(`Scheduler.addRequest: duplicate request id ${request.requestId}`);
    }
    this.requests.set(request.requestId, request);
    this.waiting.addRequest(request);
    request.recordEvent("QUEUED", now);
  }

  /** True while anything here awaits a step: running, waiting, held for a reader, or an output to deliver. */
  hasRequests(): boolean {
    return this.requests.size > 0 || this.pendingOutputs.length > 0;
  }

  /** Requests that finished here but whose blocks are held for a remote reader. */
  get numHeldRequests(): number {
    return this.requests.size - this.running.length - this.numWaiting;
  }

  /** vLLM's num_waiting_reqs: both waiting queues. */
  get numWaiting(): number {
    return this.waiting.length + this.skippedWaiting.length;
  }

  /** Every waiting request in the order the scheduler will look at them. */
  waitingRequests(): Request[] {
    return [...this.skippedWaiting.toArray(), ...this.waiting.toArray()];
  }

  /**
   * One scheduling pass: running requests first, in order, each getting
   * min(remaining, budget, long-prefill threshold) tokens, preempting from the back of the
   * running list when blocks run out; then, only if nothing was preempted, waiting requests in
   * FCFS order until the budget, the sequence cap or the first allocation failure stops it.
   */
  schedule(now: SimTime): SchedulerOutput {
    const cfg = this.config;
    const result: ScheduleResult = {
      scheduled: [],
      tokenBudget: cfg.maxNumBatchedTokens,
      preempted: nothing(),
      admissions: nothing(),
      promotions: nothing(),
      syncLoadRequestIds: nothing(),
    };
    this.updateFromKvXferFinished();

    let reqIndex = 0;
    while (reqIndex < this.running.length && result.tokenBudget > 0) {
      const request = this.running[reqIndex]!;
      let numNewTokens = this.applyLongPrefillThreshold(
        request.numTokens - request.numComputedTokens,
      );
      numNewTokens = Math.min(numNewTokens, result.tokenBudget);
      // The next input position must stay inside the model's context.
      numNewTokens = Math.min(numNewTokens, cfg.maxModelLen - 1 - request.numComputedTokens);
      if (numNewTokens <= 0) {
        reqIndex += 1;
        continue;
      }
      let allocated = this.kvCacheManager.allocateSlots(request, numNewTokens) !== null;
      while (!allocated) {
        const victim = this.running.pop()!;
        result.preempted = append(result.preempted, {
          request: victim,
          numComputedTokens: victim.numComputedTokens,
        });
        this.preemptRequest(victim, now);
        if (victim === request) break;
        allocated = this.kvCacheManager.allocateSlots(request, numNewTokens) !== null;
      }
      if (!allocated) break;
      result.scheduled.push({
        request,
        numNewTokens,
        numComputedBefore: request.numComputedTokens,
      });
      result.tokenBudget -= numNewTokens;
      reqIndex += 1;
    }

    if (result.preempted.length === 0) this.scheduleWaiting(result, now);

    let total = 0;
    for (const s of result.scheduled) {
      s.request.numComputedTokens += s.numNewTokens;
      total += s.numNewTokens;
    }
    this.assertLimits(total, result.tokenBudget);
    const output: SchedulerOutput = {
      timestamp: now,
      scheduled: result.scheduled,
      totalNumScheduledTokens: total,
      preempted: result.preempted,
      syncLoadRequestIds: result.syncLoadRequestIds,
      admissions: result.admissions,
      promotions: result.promotions,
    };
    this.connector?.buildConnectorMeta?.(output);
    return output;
  }

  /**
   * The waiting branch: in FCFS order (requests whose async load may have ended first), look up
   * what is already computed of each request and admit it, until the budget, the sequence cap or
   * the first request that does not fit stops it.
   */
  private scheduleWaiting(result: ScheduleResult, now: SimTime): void {
    let skipped: AppendOnly<Request> = nothing();
    while (this.numWaiting > 0 && result.tokenBudget > 0) {
      if (this.running.length === this.config.maxNumSeqs) break;
      const queue = this.skippedWaiting.length > 0 ? this.skippedWaiting : this.waiting;
      const request = queue.peekRequest();

      if (request.status === "WAITING_FOR_REMOTE_KVS") {
        const promotion = this.updateWaitingForRemoteKv(request);
        if (promotion === null) {
          skipped = append(skipped, queue.popRequest());
          continue;
        }
        result.promotions = append(result.promotions, promotion);
        request.status = request.numPreemptions > 0 ? "PREEMPTED" : "WAITING";
      }

      const computed = this.getComputedTokens(request);
      if (!this.admitRequest(request, queue, computed, result, now)) break;
      // Admitted to an async load: the request waits, skipped, until its KV arrives.
      if (computed.loadKvAsync) skipped = append(skipped, request);
    }
    for (let i = skipped.length - 1; i >= 0; i--) this.skippedWaiting.prependRequest(skipped[i]!);
  }

  /**
   * What is already computed of a waiting request: the local prefix-cache hit
   * (kv_cache_manager.get_computed_blocks), then what the connector can supply beyond it
   * (connector.get_num_new_matched_tokens). Only a request with nothing computed looks up; one
   * promoted after an async load resumes where the load left it.
   */
  private getComputedTokens(request: Request): ComputedTokens {
    if (request.numComputedTokens !== 0) {
      return {
        didPrefixCacheLookup: false,
        newComputedBlocks: [],
        numNewLocalComputedTokens: 0,
        numCappedTokens: 0,
        numExternalComputedTokens: 0,
        loadKvAsync: false,
        numComputedTokens: request.numComputedTokens,
      };
    }
    const hit = this.kvCacheManager.getComputedBlocks(request);
    const numNewLocalComputedTokens = hit.numComputedTokens;
    let numExternalComputedTokens = 0;
    let loadKvAsync = false;
    let via: string | undefined;
    if (this.connector !== null) {
      const matched = this.connector.getNumNewMatchedTokens(request, numNewLocalComputedTokens);
      numExternalComputedTokens = matched.numExternalTokens;
      loadKvAsync = matched.loadAsync;
      via = matched.via;
      request.numExternalComputedTokens = numExternalComputedTokens;
    }
    if (!request.prefillStatsTaken) {
      request.prefillStats = {
        numPromptTokens: request.numPromptTokens,
        localCacheHit: numNewLocalComputedTokens,
        externalKvTransfer: numExternalComputedTokens,
      };
    }
    return {
      didPrefixCacheLookup: true,
      newComputedBlocks: hit.blocks,
      numNewLocalComputedTokens,
      numCappedTokens: hit.numCappedTokens,
      numExternalComputedTokens,
      loadKvAsync,
      ...(via === undefined ? {} : { via }),
      numComputedTokens: numNewLocalComputedTokens + numExternalComputedTokens,
    };
  }

  /**
   * Admits a waiting request on what is already computed of it: allocate_slots for its new and
   * external tokens, then the connector's update_state_after_alloc and the lookup stats, and the
   * request leaves its queue, to `running` or, while its KV loads asynchronously, to
   * WAITING_FOR_REMOTE_KVS. Returns false, having changed nothing, when it does not fit: a
   * waiting request never preempts a running one.
   */
  private admitRequest(
    request: Request,
    queue: RequestQueue,
    computed: ComputedTokens,
    result: ScheduleResult,
    now: SimTime,
  ): boolean {
    const cfg = this.config;
    const kv = this.kvCacheManager;
    const { numNewLocalComputedTokens, numExternalComputedTokens, numComputedTokens } = computed;
    let numNewTokens = 0;
    if (!computed.loadKvAsync) {
      numNewTokens = this.applyLongPrefillThreshold(request.numTokens - numComputedTokens);
      if (!cfg.enableChunkedPrefill && numNewTokens > result.tokenBudget) return false;
      numNewTokens = Math.min(numNewTokens, result.tokenBudget);
    }

    const numNewBlocks = kv.allocateSlots(request, numNewTokens, {
      numNewComputedTokens: numNewLocalComputedTokens,
      newComputedBlocks: computed.newComputedBlocks,
      numExternalComputedTokens,
      delayCacheBlocks: computed.loadKvAsync,
      fullSequenceMustFit: cfg.reserveFullIsl,
    });
    if (numNewBlocks === null) return false;

    if (this.connector !== null) {
      this.connector.updateStateAfterAlloc(
        request,
        kv.getBlockIds(request),
        numExternalComputedTokens,
      );
      if (computed.didPrefixCacheLookup) {
        this.connectorPrefixCacheStats ??= new PrefixCacheStats();
        this.connectorPrefixCacheStats.record(
          request.numTokens - numNewLocalComputedTokens,
          numExternalComputedTokens,
          request.numPreemptions > 0,
        );
      }
    }
    if (computed.didPrefixCacheLookup) {
      kv.recordPrefixCacheStats(request, numNewLocalComputedTokens);
      result.admissions = append(result.admissions, {
        request,
        numTokens: request.numTokens,
        localHit: numNewLocalComputedTokens,
        cappedTokens: computed.numCappedTokens,
        external: numExternalComputedTokens,
        loadAsync: computed.loadKvAsync,
        ...(computed.via === undefined ? {} : { via: computed.via }),
      });
    }

    queue.popRequest();
    if (computed.loadKvAsync) {
      // Blocks for all N tokens are held now; the KV arrives later.
      request.status = "WAITING_FOR_REMOTE_KVS";
      request.numComputedTokens = numComputedTokens;
      return true;
    }
    this.running.push(request);
    request.recordEvent("SCHEDULED", now);
    request.status = "RUNNING";
    request.numComputedTokens = numComputedTokens;
    if (request.numCachedTokens < 0) request.numCachedTokens = numComputedTokens;
    result.scheduled.push({ request, numNewTokens, numComputedBefore: numComputedTokens });
    if (numExternalComputedTokens > 0) {
      result.syncLoadRequestIds = append(result.syncLoadRequestIds, request.requestId);
    }
    result.tokenBudget -= numNewTokens;
    return true;
  }

  private applyLongPrefillThreshold(numNewTokens: number): number {
    const threshold = this.config.longPrefillTokenThreshold;
    return threshold > 0 && numNewTokens > threshold ? threshold : numNewTokens;
  }

  /** Recompute-style preemption: all blocks go back (cached ones stay evictable). */
  private preemptRequest(request: Request, now: SimTime): void {
    this.kvCacheManager.free(request);
    request.status = "PREEMPTED";
    request.numComputedTokens = 0;
    request.numPreemptions += 1;
    request.recordEvent("PREEMPTED", now);
    this.waiting.prependRequest(request);
  }

  /**
   * Applies the model's result: every request whose scheduled tokens reached the end of its
   * sequence sampled one token (a partial prefill's sample is discarded), then stop checks.
   */
  updateFromOutput(schedulerOutput: SchedulerOutput, now: SimTime): EngineCoreOutputs {
    let outputs = this.pendingOutputs;
    this.pendingOutputs = nothing();
    let numStopped = 0;
    for (const { request } of schedulerOutput.scheduled) {
      if (request.status !== "RUNNING") continue;
      if (request.numComputedTokens < request.numTokens) continue;
      request.appendOutputToken();
      const finished = this.checkStop(request);
      let kvTransferParams: KvTransferParams | null = null;
      if (finished !== null) {
        request.status = finished;
        numStopped += 1;
        kvTransferParams = this.freeRequest(request);
      }
      outputs = append(outputs, {
        requestId: request.requestId,
        numNewTokens: 1,
        finishReason:
          finished === null ? null : finished === "FINISHED_STOPPED" ? "stop" : "length",
        events: request.takeEvents(),
        numCachedTokens: request.numCachedTokens,
        numExternalComputedTokens: request.numExternalComputedTokens,
        prefillStats: request.takePrefillStats(),
        kvTransferParams,
      });
    }
    if (numStopped > 0) this.removeStopped();
    return { timestamp: now, outputs, schedulerStats: this.makeStats() };
  }

  /**
   * Drops the requests that just finished from `running`, in place: every other running request
   * is RUNNING (preempted ones left the list when they were preempted).
   */
  private removeStopped(): void {
    const running = this.running;
    let kept = 0;
    for (const request of running) if (request.status === "RUNNING") running[kept++] = request;
    running.length = kept;
  }

  makeStats(): SchedulerStats {
    return {
      numRunningReqs: this.running.length,
      numWaitingReqs: this.numWaiting,
      kvCacheUsage: this.kvCacheManager.usage,
      prefixCacheStats: this.kvCacheManager.makePrefixCacheStats(),
      connectorPrefixCacheStats: this.takeConnectorPrefixCacheStats(),
    };
  }

  private takeConnectorPrefixCacheStats(): PrefixCacheStats | null {
    if (this.connector === null) return null;
    const stats = this.connectorPrefixCacheStats ?? NO_PREFIX_CACHE_LOOKUPS;
    this.connectorPrefixCacheStats = null;
    return stats;
  }

  /**
   * Applies what the connector's workers finished: a remote reader is done with blocks held
   * here (free them), or an async load into this engine ended (the request may be promoted on
   * the next pass; a load with invalid blocks is failed or cut back to its valid prefix).
   */
  private updateFromKvXferFinished(): void {
    if (this.connector === null) return;
    const finished = this.connector.takeFinished();
    for (const requestId of finished.sending) {
      const request = this.requests.get(requestId);
      if (request === undefined) throw new Error(`finished sending unknown request ${requestId}`);
      this.kvCacheManager.free(request);
      this.requests.delete(requestId);
    }
    for (const [requestId, firstInvalidToken] of finished.recving) {
      const request = this.requests.get(requestId);
      if (request === undefined) throw new Error(`finished receiving unknown request ${requestId}`);
      if (firstInvalidToken !== null) {
        if (this.config.kvLoadFailurePolicy === "fail") {
          this.finishWithError(request);
          continue;
        }
        const blockSize = this.kvCacheManager.blockSize;
        const validTokens = Math.floor(firstInvalidToken / blockSize) * blockSize;
        request.numComputedTokens = Math.min(request.numComputedTokens, validTokens);
        this.failedRecvingKvReqIds.add(requestId);
      }
      this.finishedRecvingKvReqIds.add(requestId);
    }
  }

  /**
   * Promotes a request whose async load ended, or returns null while it is still loading (vLLM
   * returns is_ready). After a full load the request has all N tokens, but the model needs one
   * input token to produce logits, so num_computed_tokens becomes N − 1.
   */
  private updateWaitingForRemoteKv(request: Request): Promotion | null {
    const id = request.requestId;
    if (!this.finishedRecvingKvReqIds.has(id)) return null;
    const kv = this.kvCacheManager;
    const failed = this.failedRecvingKvReqIds.has(id);
    if (failed) {
      // Keep the valid prefix; with none, start over (a local hit may apply on the next pass).
      if (request.numComputedTokens > 0) kv.cacheBlocks(request, request.numComputedTokens);
      else kv.free(request);
      this.failedRecvingKvReqIds.delete(id);
    } else {
      let numComputedTokens = Math.min(
        kv.getBlockIds(request).length * kv.blockSize,
        request.numTokens,
      );
      if (numComputedTokens === request.numTokens) numComputedTokens -= 1;
      kv.cacheBlocks(request, numComputedTokens);
      request.numComputedTokens = numComputedTokens;
    }
    this.finishedRecvingKvReqIds.delete(id);
    return {
      request,
      numTokens: request.numTokens,
      numComputedTokens: request.numComputedTokens,
      failed,
    };
  }

  /** Under the `fail` policy a failed load ends the request: HTTP 500, no tokens, no PrefillStats. */
  private finishWithError(request: Request): void {
    if (!this.skippedWaiting.remove(request)) this.waiting.remove(request);
    request.status = "FINISHED_ERROR";
    this.freeRequest(request);
    this.pendingOutputs = append(this.pendingOutputs, {
      requestId: request.requestId,
      numNewTokens: 0,
      finishReason: "error",
      events: request.takeEvents(),
      numCachedTokens: request.numCachedTokens,
      numExternalComputedTokens: 0,
      prefillStats: null,
      kvTransferParams: null,
    });
  }

  /** EOS is checked before the length caps, as in vLLM's `check_stop`: a tie finishes with `stop`. */
  private checkStop(request: Request): RequestStatus | null {
    if (request.numOutputTokens >= request.stopAfterTokens) return "FINISHED_STOPPED";
    if (
      request.numTokens >= this.config.maxModelLen ||
      request.numOutputTokens >= request.maxTokens
    ) {
      return "FINISHED_LENGTH_CAPPED";
    }
    return null;
  }

  /** Frees a finished request's blocks, unless its connector holds them for a remote reader. */
  private freeRequest(request: Request): KvTransferParams | null {
    let delayFreeBlocks = false;
    let kvTransferParams: KvTransferParams | null = null;
    if (this.connector !== null) {
      const blockIds = this.kvCacheManager.getBlockIds(request);
      ({ delayFreeBlocks, kvTransferParams } = this.connector.requestFinished(request, blockIds));
    }
    if (!delayFreeBlocks) {
      this.kvCacheManager.free(request);
      this.requests.delete(request.requestId);
    }
    return kvTransferParams;
  }

  private assertLimits(total: number, tokenBudget: number): void {
    const cfg = this.config;
    if (total > cfg.maxNumBatchedTokens || tokenBudget < 0) {
      throw new Error(
        `schedule: scheduled ${total} tokens, budget ${cfg.maxNumBatchedTokens}, left ${tokenBudget}`,
      );
    }
    if (this.running.length > cfg.maxNumSeqs) {
      throw new Error(
        `schedule: running(${this.running.length}) > max_num_seqs(${cfg.maxNumSeqs})`,
      );
    }
  }
}
