// Stats records that flow from one engine to its stat loggers; mirrors vllm/v1/metrics/stats.py
// (SchedulerStats, IterationStats, FinishedRequestStats, PrefixCacheStats) without the LoRA,
// multimodal and speculative-decoding parts. All times are in simulated seconds.

import type { FinishReason } from "./request-status.ts";

/** Prefix-cache lookups in one step, as `PrefixCacheStats` counts them (queries and hits in tokens). */
export class PrefixCacheStats {
  reset = false;
  requests = 0;
  queries = 0;
  hits = 0;
  /** Re-admissions after preemption are kept apart and never exported (vLLM does the same). */
  preemptedRequests = 0;
  preemptedQueries = 0;
  preemptedHits = 0;

  record(numTokens: number, numHits: number, preempted: boolean): void {
    if (preempted) {
      this.preemptedRequests += 1;
      this.preemptedQueries += numTokens;
      this.preemptedHits += numHits;
    } else {
      this.requests += 1;
      this.queries += numTokens;
      this.hits += numHits;
    }
  }
}

/**
 * The stats of a step that looked nothing up, shared by all such steps rather than one fresh
 * object per step: never recorded into (the recorders make their own at the first lookup).
 */
export const NO_PREFIX_CACHE_LOOKUPS = new PrefixCacheStats();

/** What the scheduler recorded about the prefill that produced the first output (current vLLM's PrefillStats). */
export interface PrefillStats {
  numPromptTokens: number;
  localCacheHit: number;
  externalKvTransfer: number;
}

/** The scheduler's view after one `schedule()` call. */
export interface SchedulerStats {
  numRunningReqs: number;
  numWaitingReqs: number;
  /** `1 − free / (num_gpu_blocks − 1)`; free includes evictable cached blocks. */
  kvCacheUsage: number;
  prefixCacheStats: PrefixCacheStats;
  /** Connector (external) lookups; null on an instance without a KV connector. */
  connectorPrefixCacheStats: PrefixCacheStats | null;
}

/**
 * What the front end knows about a request's prompt when its first output arrives: the inputs
 * every vLLM version's PromptTokenStats formula reads (see src/accounting/profiles.ts).
 */
export interface PromptTokenInputs {
  requestId: string;
  /** N */
  numPromptTokens: number;
  /** c: num_computed_tokens when the request first became RUNNING; −1 if it never did. */
  numCachedTokens: number;
  /** e: the connector's answer on the request's last waiting pass. */
  numExternalComputedTokens: number;
  /** The current scheduler's record (N, L, E); null on an output that carries none. */
  prefillStats: PrefillStats | null;
}

export interface FinishedRequestStats {
  requestId: string;
  finishReason: FinishReason;
  e2eLatency: number;
  numPromptTokens: number;
  numGenerationTokens: number;
  maxTokensParam: number;
  queuedTime: number;
  prefillTime: number;
  inferenceTime: number;
  decodeTime: number;
  meanTimePerOutputToken: number;
  /** As of the request's first output; `request_prefill_kv_computed_tokens` is derived from them. */
  promptTokenInputs: PromptTokenInputs;
}

/** What the front end learned from one step's outputs; an empty list may be shared (lists.ts). */
export interface IterationStats {
  iterationTimestamp: number;
  numGenerationTokens: number;
  /** Full prompt length of every request whose first token arrived in this step. */
  numPromptTokens: number;
  numPreemptedReqs: number;
  /** One per request whose first output arrived in this step, in output order. */
  firstOutputs: readonly PromptTokenInputs[];
  finishedRequests: readonly FinishedRequestStats[];
  maxNumGenerationTokensIter: readonly number[];
  nParamsIter: readonly number[];
  timeToFirstTokensIter: readonly number[];
  interTokenLatenciesIter: readonly number[];
}
