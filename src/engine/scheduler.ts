// Decides, each step, which requests run and how many tokens each gets; mirrors
// vllm/v1/core/sched/scheduler.py (Scheduler.schedule, update_from_output) with the FCFS policy,
// without speculative decoding, encoder inputs, LoRA or structured output.

import type { SimTime } from "../../sim/index.ts";
import type { KVCacheManager } from "./kv-cache-manager.ts";
import { RequestQueue } from "./request-queue.ts";
import type { RequestStatus } from "./request-status.ts";
import type { Request } from "./request.ts";
import type {
  EngineCoreOutput,
  EngineCoreOutputs,
  ScheduledRequest,
  SchedulerOutput,
} from "./scheduler-output.ts";
import type { SchedulerStats } from "./stats.ts";

export interface SchedulerConfig {
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  maxModelLen: number;
  enableChunkedPrefill: boolean;
  /** 0 = off; otherwise the most tokens one request may prefill in one step. */
  longPrefillTokenThreshold: number;
  /** Admit a waiting request only if its whole sequence fits in free blocks (vLLM's default). */
  reserveFullIsl: boolean;
}

export class Scheduler {
  readonly waiting = new RequestQueue();
  running: Request[] = [];
  private readonly requests = new Map<string, Request>();

  constructor(
    readonly config: SchedulerConfig,
    readonly kvCacheManager: KVCacheManager,
  ) {}

  addRequest(request: Request, now: SimTime): void {
    if (this.requests.has(request.requestId)) {
      throw new Error(`Scheduler.addRequest: duplicate request id ${request.requestId}`);
    }
    this.requests.set(request.requestId, request);
    this.waiting.addRequest(request);
    request.recordEvent("QUEUED", now);
  }

  hasRequests(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  get numUnfinishedRequests(): number {
    return this.requests.size;
  }

  /**
   * One scheduling pass: running requests first, in order, each getting
   * min(remaining, budget, long-prefill threshold) tokens, preempting from the back of the
   * running list when blocks run out; then, only if nothing was preempted, waiting requests in
   * FCFS order until the budget, the sequence cap or the first allocation failure stops it.
   */
  schedule(now: SimTime): SchedulerOutput {
    const cfg = this.config;
    const scheduled: ScheduledRequest[] = [];
    const preempted: Request[] = [];
    let tokenBudget = cfg.maxNumBatchedTokens;

    let reqIndex = 0;
    while (reqIndex < this.running.length && tokenBudget > 0) {
      const request = this.running[reqIndex]!;
      let numNewTokens = this.applyLongPrefillThreshold(
        request.numTokens - request.numComputedTokens,
      );
      numNewTokens = Math.min(numNewTokens, tokenBudget);
      // The next input position must stay inside the model's context.
      numNewTokens = Math.min(numNewTokens, cfg.maxModelLen - 1 - request.numComputedTokens);
      if (numNewTokens <= 0) {
        reqIndex += 1;
        continue;
      }
      let allocated = this.kvCacheManager.allocateSlots(request, numNewTokens) !== null;
      while (!allocated) {
        const victim = this.running.pop()!;
        this.preemptRequest(victim, now);
        preempted.push(victim);
        if (victim === request) break;
        allocated = this.kvCacheManager.allocateSlots(request, numNewTokens) !== null;
      }
      if (!allocated) break;
      scheduled.push({ request, numNewTokens, numComputedBefore: request.numComputedTokens });
      tokenBudget -= numNewTokens;
      reqIndex += 1;
    }

    if (preempted.length === 0) tokenBudget = this.scheduleWaiting(now, tokenBudget, scheduled);

    let total = 0;
    for (const s of scheduled) {
      s.request.numComputedTokens += s.numNewTokens;
      total += s.numNewTokens;
    }
    this.assertLimits(total, tokenBudget);
    return { timestamp: now, scheduled, totalNumScheduledTokens: total, preempted };
  }

  private scheduleWaiting(
    now: SimTime,
    tokenBudget: number,
    scheduled: ScheduledRequest[],
  ): number {
    const cfg = this.config;
    const kv = this.kvCacheManager;
    while (this.waiting.length > 0 && tokenBudget > 0) {
      if (this.running.length === cfg.maxNumSeqs) break;
      const request = this.waiting.peekRequest();

      let newComputedBlocks: ReturnType<KVCacheManager["getComputedBlocks"]>["blocks"] = [];
      let numNewLocalComputedTokens = 0;
      const numExternalComputedTokens = 0;
      let numComputedTokens: number;
      const didPrefixCacheLookup = request.numComputedTokens === 0;
      if (didPrefixCacheLookup) {
        const hit = kv.getComputedBlocks(request);
        newComputedBlocks = hit.blocks;
        numNewLocalComputedTokens = hit.numComputedTokens;
        numComputedTokens = numNewLocalComputedTokens + numExternalComputedTokens;
        if (!request.prefillStatsTaken) {
          request.prefillStats = {
            numPromptTokens: request.numPromptTokens,
            localCacheHit: numNewLocalComputedTokens,
            externalKvTransfer: numExternalComputedTokens,
          };
        }
      } else {
        numComputedTokens = request.numComputedTokens;
      }

      let numNewTokens = this.applyLongPrefillThreshold(request.numTokens - numComputedTokens);
      if (!cfg.enableChunkedPrefill && numNewTokens > tokenBudget) break;
      numNewTokens = Math.min(numNewTokens, tokenBudget);

      const newBlocks = kv.allocateSlots(request, numNewTokens, {
        numNewComputedTokens: numNewLocalComputedTokens,
        newComputedBlocks,
        numExternalComputedTokens,
        fullSequenceMustFit: cfg.reserveFullIsl,
      });
      if (newBlocks === null) break; // new requests never preempt running ones
      if (didPrefixCacheLookup) kv.recordPrefixCacheStats(request, numNewLocalComputedTokens);

      this.waiting.popRequest();
      this.running.push(request);
      request.recordEvent("SCHEDULED", now);
      request.status = "RUNNING";
      request.numComputedTokens = numComputedTokens;
      if (request.numCachedTokens < 0) request.numCachedTokens = numComputedTokens;
      scheduled.push({ request, numNewTokens, numComputedBefore: numComputedTokens });
      tokenBudget -= numNewTokens;
    }
    return tokenBudget;
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
    const outputs: EngineCoreOutput[] = [];
    let stopped: Set<Request> | null = null;
    for (const { request } of schedulerOutput.scheduled) {
      if (request.status !== "RUNNING") continue;
      if (request.numComputedTokens < request.numTokens) continue;
      const tokenId = request.appendOutputToken();
      const finished = this.checkStop(request);
      if (finished !== null) {
        request.status = finished;
        (stopped ??= new Set()).add(request);
        this.freeRequest(request);
      }
      outputs.push({
        requestId: request.requestId,
        newTokenIds: [tokenId],
        finishReason:
          finished === null ? null : finished === "FINISHED_STOPPED" ? "stop" : "length",
        events: request.takeEvents(),
        numCachedTokens: request.numCachedTokens,
        numExternalComputedTokens: request.numExternalComputedTokens,
        prefillStats: request.takePrefillStats(),
      });
    }
    if (stopped !== null) {
      const done = stopped;
      this.running = this.running.filter((r) => !done.has(r));
    }
    return { timestamp: now, outputs, schedulerStats: this.makeStats() };
  }

  makeStats(): SchedulerStats {
    return {
      numRunningReqs: this.running.length,
      numWaitingReqs: this.waiting.length,
      kvCacheUsage: this.kvCacheManager.usage,
      prefixCacheStats: this.kvCacheManager.makePrefixCacheStats(),
      connectorPrefixCacheStats: null,
    };
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

  private freeRequest(request: Request): void {
    this.kvCacheManager.free(request);
    this.requests.delete(request.requestId);
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
