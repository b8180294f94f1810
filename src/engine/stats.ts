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
 * Where the prompt tokens of the requests that produced their first output in one step came
 * from, summed over those requests (vLLM's `PromptTokenStats`, current formula:
 * computed = N − local − external, cached = local + external).
 */
export interface PromptTokenStats {
  total: number;
  computed: number;
  localCacheHit: number;
  externalKvTransfer: number;
  cached: number;
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
  /** Prompt tokens whose KV was not computed for this request (local hit + external), for `request_prefill_kv_computed_tokens`. */
  numCachedTokens: number;
}

/** What the front end learned from one step's outputs. */
export interface IterationStats {
  iterationTimestamp: number;
  numGenerationTokens: number;
  /** Full prompt length of every request whose first token arrived in this step. */
  numPromptTokens: number;
  numPreemptedReqs: number;
  promptTokenStats: PromptTokenStats;
  finishedRequests: FinishedRequestStats[];
  maxNumGenerationTokensIter: number[];
  nParamsIter: number[];
  timeToFirstTokensIter: number[];
  interTokenLatenciesIter: number[];
}

export function emptyPromptTokenStats(): PromptTokenStats {
  return { total: 0, computed: 0, localCacheHit: 0, externalKvTransfer: 0, cached: 0 };
}
