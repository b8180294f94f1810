// Hand-built stats records for the metrics tests: every field defaults to an idle step.

import {
  PrefixCacheStats,
  type FinishedRequestStats,
  type IterationStats,
  type PromptTokenInputs,
  type SchedulerStats,
} from "../../src/engine/stats.ts";

export function prefixStats(requests: number, queries: number, hits: number): PrefixCacheStats {
  const stats = new PrefixCacheStats();
  stats.requests = requests;
  stats.queries = queries;
  stats.hits = hits;
  return stats;
}

export function schedulerStats(fields: Partial<SchedulerStats> = {}): SchedulerStats {
  return {
    numRunningReqs: 0,
    numWaitingReqs: 0,
    kvCacheUsage: 0,
    prefixCacheStats: new PrefixCacheStats(),
    connectorPrefixCacheStats: null,
    ...fields,
  };
}

/**
 * A first output whose inputs agree across every version: N prompt tokens, `local` hit in the
 * prefix cache and `external` loaded synchronously, so c = local + external and e = external
 * (no async −1 step, no preemption): all versions but the oldest report computed N − c.
 */
export function firstOutput(
  n: number,
  { local = 0, external = 0, requestId = "r0" } = {},
): PromptTokenInputs {
  return {
    requestId,
    numPromptTokens: n,
    numCachedTokens: local + external,
    numExternalComputedTokens: external,
    prefillStats: { numPromptTokens: n, localCacheHit: local, externalKvTransfer: external },
  };
}

export function iterationStats(fields: Partial<IterationStats> = {}): IterationStats {
  return {
    iterationTimestamp: 0,
    numGenerationTokens: 0,
    numPromptTokens: 0,
    numPreemptedReqs: 0,
    firstOutputs: [],
    finishedRequests: [],
    maxNumGenerationTokensIter: [],
    nParamsIter: [],
    timeToFirstTokensIter: [],
    interTokenLatenciesIter: [],
    ...fields,
  };
}

export function finishedRequest(fields: Partial<FinishedRequestStats> = {}): FinishedRequestStats {
  const numPromptTokens = fields.numPromptTokens ?? 100;
  return {
    requestId: "r0",
    finishReason: "stop",
    e2eLatency: 1.2,
    numPromptTokens,
    numGenerationTokens: 10,
    maxTokensParam: 16,
    queuedTime: 0.1,
    prefillTime: 0.2,
    inferenceTime: 1.1,
    decodeTime: 0.9,
    meanTimePerOutputToken: 0.09,
    promptTokenInputs: firstOutput(numPromptTokens, { local: 32 }),
    ...fields,
  };
}
