// What each vLLM version reports for one request's prompt tokens; the PromptTokenStats formulas of
// vllm/v1/metrics/stats.py across the pull requests that changed them, fed with the inputs those
// versions read (num_cached_tokens, num_external_computed_tokens, or the scheduler's PrefillStats).
//
// One row per version decides everything pdsim exports for it: the stat loggers, the exposition's
// families, requests.jsonl and `pdsim explain` read the row's fields and call its formula, and
// never compare profile names. Adding a version is adding a row.

import type { PromptTokenInputs } from "../engine/stats.ts";
import type { PrefillSources } from "./ledger.ts";

export type ProfileInputs = PromptTokenInputs;

/** What one version's formula counts for one request (a value may be negative: see `exporter`). */
export interface PromptTokenCounts {
  localCompute: number;
  localCacheHit: number;
  externalKvTransfer: number;
  cached: number;
  /** `vllm:prompt_tokens_total`: N, except current vLLM with no PrefillStats (a `fail` output). */
  promptTokensTotal: number;
  /** The version's guess r at the recomputed tokens (0 in versions that make none). */
  recomputed: number;
  /** What the log line's prompt throughput counts for this request. */
  logPromptTokens: number;
  /** The `vllm:request_prefill_kv_computed_tokens` observation, at finish. */
  prefillKvComputed: number;
}

/** One vLLM version's prompt-token accounting: a row of the profile table. */
export interface Profile {
  /** The `--profile` and `metrics.profile` value; names the version's expositions. */
  readonly name: string;
  readonly pullRequest: string;
  readonly summary: string;
  /**
   * Whether the version exports the three-way source split, `vllm:prompt_tokens_by_source_total`
   * and `vllm:prompt_tokens_cached_total` (every version since #33290).
   */
  readonly hasSourceSplit: boolean;
  /** Whether it exports `vllm:prompt_tokens_recomputed_total`, the formula's `recomputed`. */
  readonly exportsRecomputed: boolean;
  /**
   * Whether its formula reads the scheduler's PrefillStats (L, E) rather than num_cached_tokens
   * (c) and num_external_computed_tokens (e).
   */
  readonly readsPrefillStats: boolean;
  /** Each source's formula, as `pdsim explain` prints it; null without a source split. */
  readonly sourceFormulas: Readonly<Record<keyof PrefillSources, string>> | null;
  /** The version's PromptTokenStats formula for one request. */
  readonly formula: (inputs: ProfileInputs) => PromptTokenCounts;
}

/** One request's contribution to a profile's families: its formula's counts, shaped by its row. */
export interface ProfileReport extends Omit<PromptTokenCounts, "recomputed"> {
  /** The row's `hasSourceSplit`. */
  hasSources: boolean;
  /** `vllm:prompt_tokens_recomputed_total`; null in versions without it. */
  recomputed: number | null;
}

/** #33290's formula, which guesses that c = N − 1 means the last token was recomputed after a full hit; #37160 clamps its local hit at 0. */
function recomputedGuessFormula(clampLocal: boolean): Profile["formula"] {
  return (inputs) => {
    const n = inputs.numPromptTokens;
    const c = inputs.numCachedTokens;
    const e = inputs.numExternalComputedTokens;
    const r = c + 1 === n ? 1 : 0;
    const local = c + r - e;
    return {
      localCompute: n - c,
      localCacheHit: clampLocal ? Math.max(0, local) : local,
      externalKvTransfer: e,
      cached: c,
      promptTokensTotal: n,
      recomputed: r,
      logPromptTokens: n - c,
      prefillKvComputed: n - Math.max(c, 0),
    };
  };
}

/** The table, oldest version first: the order of `--profile all` and of requests.jsonl's `reported`. */
const ROWS = [
  {
    name: "vllm-pre33290",
    pullRequest: "before #33290",
    summary: "no source split; the log's prompt throughput counts every prompt token",
    hasSourceSplit: false,
    exportsRecomputed: false,
    readsPrefillStats: false,
    sourceFormulas: null,
    formula: (inputs) => {
      const n = inputs.numPromptTokens;
      const computed = n - Math.max(inputs.numCachedTokens, 0);
      return {
        localCompute: computed,
        localCacheHit: 0,
        externalKvTransfer: 0,
        cached: 0,
        promptTokensTotal: n,
        recomputed: 0,
        logPromptTokens: n,
        prefillKvComputed: computed,
      };
    },
  },
  {
    name: "vllm-pr33290",
    pullRequest: "#33290 (2026-02-04)",
    summary: "computed N − c, local c + r − e, external e, recomputed r = [c + 1 = N]",
    hasSourceSplit: true,
    exportsRecomputed: true,
    readsPrefillStats: false,
    sourceFormulas: {
      local_compute: "computed = N − c",
      local_cache_hit: "local = c + r − e",
      external_kv_transfer: "external = e",
    },
    formula: recomputedGuessFormula(false),
  },
  {
    name: "vllm-pr37160",
    pullRequest: "#37160 (2026-03-31)",
    summary: "as #33290, with local clamped at 0",
    hasSourceSplit: true,
    exportsRecomputed: true,
    readsPrefillStats: false,
    sourceFormulas: {
      local_compute: "computed = N − c",
      local_cache_hit: "local = max(0, c + r − e)",
      external_kv_transfer: "external = e",
    },
    formula: recomputedGuessFormula(true),
  },
  {
    name: "vllm-pr38709",
    pullRequest: "#38709 (2026-04-12)",
    summary: "recomputed removed; local max(0, c − e)",
    hasSourceSplit: true,
    exportsRecomputed: false,
    readsPrefillStats: false,
    sourceFormulas: {
      local_compute: "computed = N − c",
      local_cache_hit: "local = max(0, c − e)",
      external_kv_transfer: "external = e",
    },
    formula: (inputs) => {
      const n = inputs.numPromptTokens;
      const c = inputs.numCachedTokens;
      const e = inputs.numExternalComputedTokens;
      return {
        localCompute: n - c,
        localCacheHit: Math.max(0, c - e),
        externalKvTransfer: e,
        cached: c,
        promptTokensTotal: n,
        recomputed: 0,
        logPromptTokens: n - c,
        prefillKvComputed: n - Math.max(c, 0),
      };
    },
  },
  {
    name: "vllm-pr37460",
    pullRequest: "#37460 (2026-04-14)",
    summary: "the scheduler's PrefillStats: computed N − L − E, local L, external E",
    hasSourceSplit: true,
    exportsRecomputed: false,
    readsPrefillStats: true,
    sourceFormulas: {
      local_compute: "computed = N − L − E",
      local_cache_hit: "local = L",
      external_kv_transfer: "external = E",
    },
    formula: (inputs) => {
      const p = inputs.prefillStats;
      const l = p?.localCacheHit ?? 0;
      const x = p?.externalKvTransfer ?? 0;
      const total = p === null ? 0 : p.numPromptTokens;
      return {
        localCompute: total - l - x,
        localCacheHit: l,
        externalKvTransfer: x,
        cached: l + x,
        promptTokensTotal: total,
        recomputed: 0,
        logPromptTokens: total - l - x,
        prefillKvComputed: inputs.numPromptTokens - (l + x),
      };
    },
  },
] as const satisfies readonly Profile[];

export type ProfileName = (typeof ROWS)[number]["name"];

/** Every version pdsim reproduces, oldest first. */
export const PROFILE_LIST: readonly Profile[] = ROWS;
export const PROFILE_NAMES: readonly ProfileName[] = ROWS.map((row) => row.name);
export const PROFILES = Object.fromEntries(ROWS.map((row) => [row.name, row])) as Readonly<
  Record<ProfileName, Profile>
>;
export const DEFAULT_PROFILE: ProfileName = "vllm-pr37460";

/** Whether `name` names one of the versions above. */
export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

/** The row's formula for one request, with what the row says the version exports. */
export function report(profile: Profile, inputs: ProfileInputs): ProfileReport {
  const counts = profile.formula(inputs);
  return {
    hasSources: profile.hasSourceSplit,
    localCompute: counts.localCompute,
    localCacheHit: counts.localCacheHit,
    externalKvTransfer: counts.externalKvTransfer,
    cached: counts.cached,
    promptTokensTotal: counts.promptTokensTotal,
    recomputed: profile.exportsRecomputed ? counts.recomputed : null,
    logPromptTokens: counts.logPromptTokens,
    prefillKvComputed: counts.prefillKvComputed,
  };
}
