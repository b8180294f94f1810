// Hand-built stats records for the metrics tests: every field defaults to an idle step.

import {
  PrefixCacheStats,
  emptyPromptTokenStats,
  type FinishedRequestStats,
  type IterationStats,
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

export function iterationStats(fields: Partial<IterationStats> = {}): IterationStats {
  return {
    iterationTimestamp: 0,
    numGenerationTokens: 0,
    numPromptTokens: 0,
    numPreemptedReqs: 0,
    promptTokenStats: emptyPromptTokenStats(),
    finishedRequests: [],
    maxNumGenerationTokensIter: [],
    nParamsIter: [],
    timeToFirstTokensIter: [],
    interTokenLatenciesIter: [],
    ...fields,
  };
}

export function finishedRequest(fields: Partial<FinishedRequestStats> = {}): FinishedRequestStats {
  return {
    requestId: "r0",
    finishReason: "stop",
    e2eLatency: 1.2,
    numPromptTokens: 100,
    numGenerationTokens: 10,
    maxTokensParam: 16,
    queuedTime: 0.1,
    prefillTime: 0.2,
    inferenceTime: 1.1,
    decodeTime: 0.9,
    meanTimePerOutputToken: 0.09,
    numCachedTokens: 32,
    ...fields,
  };
}
