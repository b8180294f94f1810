// The records that join the two halves of an engine step; mirrors vllm/v1/core/sched/output.py
// (SchedulerOutput) and vllm/v1/engine/__init__.py (EngineCoreOutput, EngineCoreOutputs).

import type { SimTime } from "../../sim/index.ts";
import type { EngineCoreEvent, KvTransferParams, Request } from "./request.ts";
import type { FinishReason } from "./request-status.ts";
import type { PrefillStats, SchedulerStats } from "./stats.ts";

export interface ScheduledRequest {
  request: Request;
  numNewTokens: number;
  /** `numComputedTokens` before this step: where this step's tokens start. */
  numComputedBefore: number;
}

/** A pass through the waiting branch that looked up the prefix cache and got blocks. */
export interface Admission {
  request: Request;
  /** N at the time (a re-admission after preemption includes generated tokens). */
  numTokens: number;
  /** L */
  localHit: number;
  /** Cached tokens the N − 1 cap left out (computed although cached). */
  cappedTokens: number;
  /** What the connector said it could supply, and whether asynchronously. */
  external: number;
  loadAsync: boolean;
  /** Where the connector found them, when it says (a tier connector). */
  via?: string;
}

/** A running request sent back to waiting for lack of blocks; its KV is gone. */
export interface Preemption {
  request: Request;
  /** num_computed_tokens the preemption discarded (the request's own field now reads 0). */
  numComputedTokens: number;
}

/** A request whose async KV load ended and that left WAITING_FOR_REMOTE_KVS. */
export interface Promotion {
  request: Request;
  numTokens: number;
  /** num_computed_tokens after the load: N − 1 after a full load, the valid prefix after a failed one. */
  numComputedTokens: number;
  failed: boolean;
}

/** Its lists are read-only: a step with none of something shares one empty list (lists.ts). */
export interface SchedulerOutput {
  timestamp: SimTime;
  scheduled: ScheduledRequest[];
  totalNumScheduledTokens: number;
  preempted: readonly Preemption[];
  /** Requests whose external KV a synchronous connector loads during this step. */
  syncLoadRequestIds: readonly string[];
  admissions: readonly Admission[];
  promotions: readonly Promotion[];
}

export interface EngineCoreOutput {
  requestId: string;
  /**
   * How many tokens the step sampled for the request (vLLM's len(new_token_ids)): 1, or 0 on the
   * output of a request that failed. Nothing here reads the ids themselves (they are a function
   * of the output index; Request.tokenIds() has them), and an array per output per decode step
   * costs a decode-heavy run more than the count does (docs/performance.md, change 17).
   */
  numNewTokens: number;
  finishReason: FinishReason | null;
  events: EngineCoreEvent[] | null;
  numCachedTokens: number;
  numExternalComputedTokens: number;
  /** Present on the request's first output only. */
  prefillStats: PrefillStats | null;
  /** On the final output of a request whose blocks are held for a remote reader (the prefill leg). */
  kvTransferParams: KvTransferParams | null;
}

export interface EngineCoreOutputs {
  timestamp: SimTime;
  outputs: readonly EngineCoreOutput[];
  schedulerStats: SchedulerStats;
}
