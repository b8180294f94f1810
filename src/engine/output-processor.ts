// Turns each step's engine-core outputs into the front end's per-request view and IterationStats;
// mirrors the stats half of vllm/v1/engine/output_processor.py (OutputProcessor, RequestState) and
// IterationStats.update_from_* in vllm/v1/metrics/stats.py, without detokenization or streaming.

import { type SimTime, usToSeconds } from "../../sim/index.ts";
import { append, nothing } from "./lists.ts";
import type { EngineCoreEvent } from "./request.ts";
import type { EngineCoreOutputs } from "./scheduler-output.ts";
import type { FinishReason } from "./request-status.ts";
import type { FinishedRequestStats, IterationStats, PromptTokenInputs } from "./stats.ts";

/** Timestamps in simulated seconds; null until the event happened (0 is a valid time here). */
interface RequestStateStats {
  arrivalTime: number;
  queuedTs: number | null;
  scheduledTs: number | null;
  firstTokenTs: number | null;
  lastTokenTs: number;
  numGenerationTokens: number;
}

interface RequestState {
  requestId: string;
  promptLen: number;
  maxTokensParam: number;
  isPrefilling: boolean;
  stats: RequestStateStats;
  promptTokenInputs: PromptTokenInputs | null;
}

/** A finished request as the front end saw it, for the per-request record. */
export interface FinishedRequest {
  stats: FinishedRequestStats;
  arrivalTime: number;
  scheduledTs: number | null;
  firstTokenTs: number | null;
  lastTokenTs: number;
}

/** IterationStats while one step's outputs are folded in: its lists grow through `append`. */
type IterationStatsUnderway = {
  -readonly [K in keyof IterationStats]: IterationStats[K] extends readonly (infer T)[]
    ? T[]
    : IterationStats[K];
};

/** Most outputs carry no events; one shared empty list instead of one per output. */
const NO_EVENTS: readonly EngineCoreEvent[] = [];

export class OutputProcessor {
  private readonly requestStates = new Map<string, RequestState>();

  addRequest(requestId: string, promptLen: number, maxTokens: number, arrivalTime: SimTime): void {
    this.requestStates.set(requestId, {
      requestId,
      promptLen,
      maxTokensParam: maxTokens,
      isPrefilling: true,
      promptTokenInputs: null,
      stats: {
        arrivalTime: usToSeconds(arrivalTime),
        queuedTs: null,
        scheduledTs: null,
        firstTokenTs: null,
        lastTokenTs: 0,
        numGenerationTokens: 0,
      },
    });
  }

  get numUnfinishedRequests(): number {
    return this.requestStates.size;
  }

  processOutputs(engineCoreOutputs: EngineCoreOutputs): {
    iterationStats: IterationStats;
    finished: readonly FinishedRequest[];
  } {
    const now = usToSeconds(engineCoreOutputs.timestamp);
    const it: IterationStatsUnderway = {
      iterationTimestamp: now,
      numGenerationTokens: 0,
      numPromptTokens: 0,
      numPreemptedReqs: 0,
      firstOutputs: nothing(),
      finishedRequests: nothing(),
      maxNumGenerationTokensIter: nothing(),
      nParamsIter: nothing(),
      timeToFirstTokensIter: nothing(),
      interTokenLatenciesIter: nothing(),
    };
    let finished: FinishedRequest[] = nothing();
    for (const output of engineCoreOutputs.outputs) {
      const state = this.requestStates.get(output.requestId);
      if (state === undefined) {
        throw new Error(`OutputProcessor: output for unknown request ${output.requestId}`);
      }
      const s = state.stats;
      const isPrefilling = state.isPrefilling;
      it.numGenerationTokens += output.numNewTokens;
      if (isPrefilling) {
        it.numPromptTokens += state.promptLen;
        it.timeToFirstTokensIter = append(it.timeToFirstTokensIter, now - s.arrivalTime);
      }
      if (state.promptTokenInputs === null) {
        // vLLM counts a request's prompt once, with its first output (even one without tokens).
        state.promptTokenInputs = {
          requestId: state.requestId,
          numPromptTokens: state.promptLen,
          numCachedTokens: output.numCachedTokens,
          numExternalComputedTokens: output.numExternalComputedTokens,
          prefillStats: output.prefillStats,
        };
        it.firstOutputs = append(it.firstOutputs, state.promptTokenInputs);
      }
      s.numGenerationTokens += output.numNewTokens;
      for (const event of output.events ?? NO_EVENTS) {
        const ts = usToSeconds(event.timestamp);
        switch (event.type) {
          case "QUEUED":
            s.queuedTs = ts;
            break;
          case "SCHEDULED":
            if (s.scheduledTs === null) s.scheduledTs = ts; // later SCHEDULED events are re-admissions after preemption
            break;
          case "PREEMPTED":
            it.numPreemptedReqs += 1;
            break;
        }
      }
      if (isPrefilling) s.firstTokenTs = now;
      else it.interTokenLatenciesIter = append(it.interTokenLatenciesIter, now - s.lastTokenTs);
      s.lastTokenTs = now;
      state.isPrefilling = false;

      if (output.finishReason !== null) {
        const done = this.finishRequest(state, output.finishReason, now);
        it.finishedRequests = append(it.finishedRequests, done.stats);
        it.maxNumGenerationTokensIter = append(
          it.maxNumGenerationTokensIter,
          s.numGenerationTokens,
        );
        it.nParamsIter = append(it.nParamsIter, 1);
        finished = append(finished, done);
      }
    }
    return { iterationStats: it, finished };
  }

  private finishRequest(
    state: RequestState,
    finishReason: FinishReason,
    now: number,
  ): FinishedRequest {
    this.requestStates.delete(state.requestId);
    const s = state.stats;
    const queuedTs = s.queuedTs ?? s.arrivalTime;
    const scheduledTs = s.scheduledTs ?? queuedTs;
    const firstTokenTs = s.firstTokenTs ?? scheduledTs;
    const decodeTime = s.lastTokenTs - firstTokenTs;
    const stats: FinishedRequestStats = {
      requestId: state.requestId,
      finishReason,
      e2eLatency: now - s.arrivalTime,
      numPromptTokens: state.promptLen,
      numGenerationTokens: s.numGenerationTokens,
      maxTokensParam: state.maxTokensParam,
      queuedTime: scheduledTs - queuedTs,
      prefillTime: firstTokenTs - scheduledTs,
      inferenceTime: s.lastTokenTs - scheduledTs,
      decodeTime,
      meanTimePerOutputToken:
        s.numGenerationTokens > 1 ? decodeTime / (s.numGenerationTokens - 1) : 0,
      promptTokenInputs: state.promptTokenInputs!,
    };
    return {
      stats,
      arrivalTime: s.arrivalTime,
      scheduledTs: s.scheduledTs,
      firstTokenTs: s.firstTokenTs,
      lastTokenTs: s.lastTokenTs,
    };
  }
}
