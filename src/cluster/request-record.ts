// The per-request record written to requests.jsonl: the client's view and each instance's view
// of one request (the P/D flow gives a request one leg per instance it visited).

import type { FinishReason } from "../engine/request-status.ts";
import type { PrefillSources, RecomputedTokens } from "../accounting/ledger.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import type { InstanceRole } from "../scenario/types.ts";

/** What one vLLM version's prompt-token families would have counted for this leg. */
export type ProfileSources =
  | {
      local_compute: number;
      local_cache_hit: number;
      external_kv_transfer: number;
      cached: number;
      /** What it added to vllm:prompt_tokens_total. */
      prompt_tokens: number;
      /** Only the versions that exported vllm:prompt_tokens_recomputed_total. */
      recomputed?: number;
    }
  /** Versions before the source split: only the log line's prompt throughput counted it. */
  | { prompt_throughput_tokens: number };

/** By profile name: every version pdsim knows, and any other profile the run exported. */
export type ReportedSources = Readonly<Record<ProfileName, ProfileSources>> &
  Readonly<Record<string, ProfileSources>>;

export interface InstanceLeg {
  instance: string;
  role: InstanceRole;
  arrival_s: number;
  first_scheduled_s: number | null;
  first_token_s: number | null;
  last_token_s: number | null;
  finish_reason: FinishReason;
  num_output_tokens: number;
  num_preemptions: number;
  /** vLLM's `num_cached_tokens` as the first output carried it: num_computed_tokens at the first RUNNING (−1 if never). */
  num_cached_tokens: number;
  /** vLLM's `num_external_computed_tokens` as the first output carried it (0 on a `fail` output). */
  num_external_computed_tokens: number;
  /** Ground truth: the prefill that produced this leg's first token (null if none did). */
  truth: PrefillSources | null;
  /** Work outside that prefill, by reason (null for a refused leg). */
  recomputed: RecomputedTokens | null;
  /** Tokens whose KV arrived over the connector for this leg, used or not. */
  kv_transfer_tokens: number;
  /** What every accounting profile reports for this leg (null for a refused leg). */
  reported: ReportedSources | null;
  /** Why the instance refused the request, when it did. */
  error?: string;
}

export interface RequestRecord {
  id: string;
  arrival_s: number;
  prompt_tokens: number;
  max_tokens: number;
  prefix_group: string | null;
  finish_reason: FinishReason;
  first_token_s: number | null;
  finish_s: number;
  legs: InstanceLeg[];
}
