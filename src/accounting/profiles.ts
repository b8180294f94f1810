// What each vLLM version reports for one request's prompt tokens; the PromptTokenStats formulas of
// vllm/v1/metrics/stats.py across the pull requests that changed them, fed with the inputs those
// versions read (num_cached_tokens, num_external_computed_tokens, or the scheduler's PrefillStats).

import type { PromptTokenInputs } from "../engine/stats.ts";

export const PROFILE_NAMES = [
  "vllm-pre33290",
  "vllm-pr33290",
  "vllm-pr37160",
  "vllm-pr38709",
  "vllm-pr37460",
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = "vllm-pr37460";

export type ProfileInputs = PromptTokenInputs;

/** One request's contribution to a profile's families (a value may be negative: see `exporter`). */
export interface ProfileReport {
  /** Whether the version exported the source split at all. */
  hasSources: boolean;
  localCompute: number;
  localCacheHit: number;
  externalKvTransfer: number;
  cached: number;
  /** `vllm:prompt_tokens_total`: N, except current vLLM with no PrefillStats (a `fail` output). */
  promptTokensTotal: number;
  /** `vllm:prompt_tokens_recomputed_total`; null in versions without it. */
  recomputed: number | null;
  /** What the log line's prompt throughput counts for this request. */
  logPromptTokens: number;
  /** The `vllm:request_prefill_kv_computed_tokens` observation, at finish. */
  prefillKvComputed: number;
}

export interface ProfileDescription {
  name: ProfileName;
  pullRequest: string;
  summary: string;
}

export const PROFILES: Readonly<Record<ProfileName, ProfileDescription>> = {
  "vllm-pre33290": {
    name: "vllm-pre33290",
    pullRequest: "before #33290",
    summary: "no source split; the log's prompt throughput counts every prompt token",
  },
  "vllm-pr33290": {
    name: "vllm-pr33290",
    pullRequest: "#33290 (2026-02-04)",
    summary: "computed N − c, local c + r − e, external e, recomputed r = [c + 1 = N]",
  },
  "vllm-pr37160": {
    name: "vllm-pr37160",
    pullRequest: "#37160 (2026-03-31)",
    summary: "as #33290, with local clamped at 0",
  },
  "vllm-pr38709": {
    name: "vllm-pr38709",
    pullRequest: "#38709 (2026-04-12)",
    summary: "recomputed removed; local max(0, c − e)",
  },
  "vllm-pr37460": {
    name: "vllm-pr37460",
    pullRequest: "#37460 (2026-04-14)",
    summary: "the scheduler's PrefillStats: computed N − L − E, local L, external E",
  },
};

/** Whether the version exports the three-way source split (every version since #33290). */
export function hasSourceSplit(profile: ProfileName): boolean {
  return profile !== "vllm-pre33290";
}

export function report(profile: ProfileName, inputs: ProfileInputs): ProfileReport {
  const n = inputs.numPromptTokens;
  const c = inputs.numCachedTokens;
  const e = inputs.numExternalComputedTokens;
  const kvComputedFromC = n - Math.max(c, 0);
  switch (profile) {
    case "vllm-pre33290":
      return {
        hasSources: hasSourceSplit(profile),
        localCompute: n - Math.max(c, 0),
        localCacheHit: 0,
        externalKvTransfer: 0,
        cached: 0,
        promptTokensTotal: n,
        recomputed: null,
        logPromptTokens: n,
        prefillKvComputed: kvComputedFromC,
      };
    case "vllm-pr33290":
    case "vllm-pr37160": {
      // v1 guesses that c = N − 1 means the last token was recomputed after a full hit.
      const r = c + 1 === n ? 1 : 0;
      const local = c + r - e;
      return {
        hasSources: true,
        localCompute: n - c,
        localCacheHit: profile === "vllm-pr33290" ? local : Math.max(0, local),
        externalKvTransfer: e,
        cached: c,
        promptTokensTotal: n,
        recomputed: r,
        logPromptTokens: n - c,
        prefillKvComputed: kvComputedFromC,
      };
    }
    case "vllm-pr38709":
      return {
        hasSources: true,
        localCompute: n - c,
        localCacheHit: Math.max(0, c - e),
        externalKvTransfer: e,
        cached: c,
        promptTokensTotal: n,
        recomputed: null,
        logPromptTokens: n - c,
        prefillKvComputed: kvComputedFromC,
      };
    case "vllm-pr37460": {
      const p = inputs.prefillStats;
      const l = p?.localCacheHit ?? 0;
      const x = p?.externalKvTransfer ?? 0;
      const total = p === null ? 0 : p.numPromptTokens;
      return {
        hasSources: true,
        localCompute: total - l - x,
        localCacheHit: l,
        externalKvTransfer: x,
        cached: l + x,
        promptTokensTotal: total,
        recomputed: null,
        logPromptTokens: total - l - x,
        prefillKvComputed: n - (l + x),
      };
    }
  }
}
