// The ground truth of where one instance's prompt tokens came from: for each request, the
// prefill that produced its first token here, split into local_compute, local_cache_hit and
// external_kv_transfer (summing to N), and the work outside it, by reason. Built by observing
// the scheduler's admissions, promotions, preemptions and scheduled tokens; vLLM has no such
// record, which is why its versions disagree.

import { ChurnMap } from "../util/churn-map.ts";
import { append, nothing } from "../util/lists.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../engine/scheduler-output.ts";

export interface PrefillSources {
  local_compute: number;
  local_cache_hit: number;
  external_kv_transfer: number;
}

/** Tokens computed here although their KV was, or had been, available. */
export interface RecomputedTokens {
  /** Transferred, then overwritten: the model needs the last prompt token as input. */
  last_token: number;
  /** Cached, but left out by the N − 1 cap: the whole last block when N = k·B. */
  cache_hit_cap: number;
  /** Computed before a preemption and again after it. */
  preemption: number;
  /** Transferred with invalid blocks and computed here instead. */
  failed_load: number;
}

export const RECOMPUTE_REASONS = [
  "last_token",
  "cache_hit_cap",
  "preemption",
  "failed_load",
] as const;

export interface LedgerEntry {
  /** Null when no prefill here produced a token (the request failed first). */
  truth: PrefillSources | null;
  recomputed: RecomputedTokens;
  /** Tokens whose KV arrived over the connector, used or not. */
  transferredTokens: number;
}

/** A request's first output on this instance and the truth it closes. */
export interface FirstOutput {
  requestId: string;
  truth: PrefillSources | null;
}

interface Tracking {
  numPromptTokens: number;
  /** The current attempt: the last admission through the prefix-cache lookup. */
  localHit: number;
  cappedTokens: number;
  externalOffered: number;
  externalUsed: number;
  computedPrompt: number;
  /** Tokens lost at the last preemption, recomputed unless the re-admission hits them. */
  lostAtPreemption: number;
  firstOutputSeen: boolean;
  entry: LedgerEntry;
}

export class PrefillLedger {
  private readonly tracking = new ChurnMap<string, Tracking>();

  /** Starts tracking a request that this instance accepted. */
  add(requestId: string, numPromptTokens: number): void {
    this.tracking.set(requestId, {
      numPromptTokens,
      localHit: 0,
      cappedTokens: 0,
      externalOffered: 0,
      externalUsed: 0,
      computedPrompt: 0,
      lostAtPreemption: 0,
      firstOutputSeen: false,
      entry: {
        truth: null,
        recomputed: { last_token: 0, cache_hit_cap: 0, preemption: 0, failed_load: 0 },
        transferredTokens: 0,
      },
    });
  }

  /** Folds in one engine step; returns the first outputs it saw, with their truth. */
  observe(step: SchedulerOutput | null, outputs: EngineCoreOutputs): readonly FirstOutput[] {
    const someBeforeFirstOutput = step === null || this.observeSchedule(step);
    let firsts = nothing<FirstOutput>();
    for (const output of outputs.outputs) {
      // An output with a token comes from a request scheduled this step, so it can be a first
      // output only if such a request had none yet. Most decode steps have none: no lookups.
      if (!someBeforeFirstOutput && output.numNewTokens > 0) continue;
      const t = this.get(output.requestId);
      if (t.firstOutputSeen) continue;
      t.firstOutputSeen = true;
      if (output.numNewTokens > 0) t.entry.truth = this.closeFirstPrefill(output.requestId, t);
      firsts = append(firsts, { requestId: output.requestId, truth: t.entry.truth });
    }
    return firsts;
  }

  /** Stops tracking a finished request and returns its ledger. */
  take(requestId: string): LedgerEntry {
    const t = this.get(requestId);
    this.tracking.delete(requestId);
    return t.entry;
  }

  /** Returns whether a request scheduled in this step had produced no output here yet. */
  private observeSchedule(step: SchedulerOutput): boolean {
    for (const p of step.preempted)
      this.get(p.request.requestId).lostAtPreemption = p.numComputedTokens;
    for (const p of step.promotions) {
      const t = this.get(p.request.requestId);
      // Tokens below the local hit were never transferred; what lies above it arrived and is used.
      const used = Math.max(0, p.numComputedTokens - t.localHit);
      const unused = Math.max(0, t.externalOffered - used);
      if (p.failed) t.entry.recomputed.failed_load += unused;
      else t.entry.recomputed.last_token += unused;
      t.externalUsed = used;
    }
    for (const a of step.admissions) {
      const t = this.get(a.request.requestId);
      // What the re-admission finds again, locally or through the connector, is not recomputed.
      t.entry.recomputed.preemption += Math.max(0, t.lostAtPreemption - a.localHit - a.external);
      t.lostAtPreemption = 0;
      t.localHit = a.localHit;
      t.cappedTokens = a.cappedTokens;
      t.computedPrompt = 0;
      t.externalOffered = a.external;
      t.entry.transferredTokens += a.external;
      // A synchronous load is used in full at once; an async one when its promotion says so.
      t.externalUsed = a.loadAsync ? 0 : a.external;
    }
    let someBeforeFirstOutput = false;
    for (const s of step.scheduled) {
      // Before its first output a request has no output tokens, so its steps start inside the
      // prompt; a decode step (most of them) starts past it and needs no lookup.
      if (s.numComputedBefore >= s.request.numPromptTokens) continue;
      const t = this.get(s.request.requestId);
      if (t.firstOutputSeen) continue; // recomputing after a preemption
      t.computedPrompt += s.numNewTokens;
      someBeforeFirstOutput = true;
    }
    return someBeforeFirstOutput;
  }

  private closeFirstPrefill(requestId: string, t: Tracking): PrefillSources {
    const n = t.numPromptTokens;
    const truth: PrefillSources = {
      local_compute: n - t.localHit - t.externalUsed,
      local_cache_hit: t.localHit,
      external_kv_transfer: t.externalUsed,
    };
    if (truth.local_compute !== t.computedPrompt || truth.local_compute < 1) {
      throw new Error(
        `ledger(${requestId}): local_compute N(${n}) − hit(${t.localHit}) − external(${t.externalUsed}) = ` +
          `${truth.local_compute}, but the steps computed ${t.computedPrompt} prompt tokens`,
      );
    }
    t.entry.recomputed.cache_hit_cap += t.cappedTokens;
    return truth;
  }

  private get(requestId: string): Tracking {
    const t = this.tracking.get(requestId);
    if (t === undefined) throw new Error(`ledger: unknown request ${requestId}`);
    return t;
  }
}
