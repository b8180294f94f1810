// Turns each step's engine-core outputs into the front end's per-request view and IterationStats;
// mirrors the stats half of vllm/v1/engine/output_processor.py (OutputProcessor, RequestState) and
// IterationStats.update_from_* in vllm/v1/metrics/stats.py, without detokenization or streaming.

import { type SimTime, usToSeconds } from "../../sim/index.ts";
import { ChurnMap } from "../util/churn-map.ts";
import { type AppendOnly, append, nothing } from "../util/lists.ts";
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

/** Most outputs carry no events; one shared empty list instead of one per output. */
const NO_EVENTS: readonly EngineCoreEvent[] = nothing();

export class OutputProcessor {
  private readonly requestStates = new ChurnMap<string, RequestState>();

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
    // IterationStats' fields, gathered output by output; the lists grow through `append`.
    let numGenerationTokens = 0;
    let numPromptTokens = 0;
    let numPreemptedReqs = 0;
    let firstOutputs: AppendOnly<PromptTokenInputs> = nothing();
    let finishedRequests: AppendOnly<FinishedRequestStats> = nothing();
    let maxNumGenerationTokensIter: AppendOnly<number> = nothing();
    let nParamsIter: AppendOnly<number> = nothing();
    let timeToFirstTokensIter: AppendOnly<number> = nothing();
    let interTokenLatenciesIter: AppendOnly<number> = nothing();
    let finished: AppendOnly<FinishedRequest> = nothing();
    for (const output of engineCoreOutputs.outputs) {
      const state = this.requestStates.get(output.requestId);
      if (state === undefined) {
        throw new Error(`OutputProcessor: output for unknown request ${output.requestId}`);
      }
      const s = state.stats;
      const isPrefilling = state.isPrefilling;
      numGenerationTokens += output.numNewTokens;
      if (isPrefilling) {
        numPromptTokens += state.promptLen;
        timeToFirstTokensIter = append(timeToFirstTokensIter, now - s.arrivalTime);
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
        firstOutputs = append(firstOutputs, state.promptTokenInputs);
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
            numPreemptedReqs += 1;
            break;
        }
      }
      if (isPrefilling) s.firstTokenTs = now;
      else interTokenLatenciesIter = append(interTokenLatenciesIter, now - s.lastTokenTs);
      s.lastTokenTs = now;
      state.isPrefilling = false;

      if (output.finishReason !== null) {
        const done = this.finishRequest(state, output.finishReason, now);
        finishedRequests = append(finishedRequests, done.stats);
        maxNumGenerationTokensIter = append(maxNumGenerationTokensIter, s.numGenerationTokens);
        nParamsIter = append(nParamsIter, 1);
        finished = append(finished, done);
      }
    }
    const iterationStats: IterationStats = {
      iterationTimestamp: now,
      numGenerationTokens,
      numPromptTokens,
      numPreemptedReqs,
      firstOutputs,
      finishedRequests,
      maxNumGenerationTokensIter,
      nParamsIter,
      timeToFirstTokensIter,
      interTokenLatenciesIter,
    };
    return { iterationStats, finished };
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
