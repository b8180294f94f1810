// Invariants about each request leg: how the prompt tokens one instance counted for one request
// split into sources, under the ground truth and under each vLLM version's formula.

import { PROFILE_NAMES } from "../../accounting/profiles.ts";
import { SPLIT_PROFILES, type Subject } from "../subjects.ts";
import type { WatchedRun } from "../watched-run.ts";
import { type LegView, legsOf, loggedPromptTokens, sourcesText, splitReport } from "./legs.ts";
import type { Invariant, Violation } from "./types.ts";

type LegCheck = (view: LegView, subject: Subject) => string | null;

/** An invariant checked on every leg of every finished request, once the run has ended. */
function perLeg(meta: Omit<Invariant, "watch" | "level">, check: LegCheck): Invariant {
  return {
    ...meta,
    level: "request",
    watch: (run: WatchedRun) => () => {
      const violations: Violation[] = [];
      for (const view of legsOf(run.scenario, run.outputs.records)) {
        for (const subject of meta.subjects) {
          const message = check(view, subject);
          if (message === null) continue;
          violations.push({ subject, where: view.where, requestId: view.record.id, message });
        }
      }
      return violations;
    },
  };
}

const TRUTH_AND_SPLITS: readonly Subject[] = ["truth", ...SPLIT_PROFILES];

/** The sources a subject gives the leg, or null where it gives none (no prefill, no split). */
function sourcesOf(view: LegView, subject: Subject) {
  if (subject === "truth") return view.leg.truth;
  if (subject === "simulator") return null;
  return splitReport(view.leg, subject);
}

export const sourcesSumToPrompt = perLeg(
  {
    id: "sources-sum-to-prompt",
    statement:
      "The three sources of a counted request sum to the prompt tokens it was counted for: N in the truth, what the version added to vllm:prompt_tokens_total in a profile.",
    subjects: TRUTH_AND_SPLITS,
    promisedBy: ["truth", "vllm-pr37460"],
  },
  (view, subject) => {
    const s = sourcesOf(view, subject);
    if (s === null) return null;
    const counted = "prompt_tokens" in s ? s.prompt_tokens : view.n;
    const sum = s.local_compute + s.local_cache_hit + s.external_kv_transfer;
    if (sum === counted) return null;
    return `sources sum to ${sum} for a ${counted}-token prompt (${sourcesText(s)})`;
  },
);

export const sourcesNonNegative = perLeg(
  {
    id: "sources-non-negative",
    statement: "No source of a request's prompt tokens is negative.",
    subjects: TRUTH_AND_SPLITS,
    promisedBy: ["truth", "vllm-pr37160", "vllm-pr38709", "vllm-pr37460"],
  },
  (view, subject) => {
    const s = sourcesOf(view, subject);
    if (s === null) return null;
    if (s.local_compute >= 0 && s.local_cache_hit >= 0 && s.external_kv_transfer >= 0) return null;
    return `a negative source (${sourcesText(s)}) for a ${view.n}-token prompt`;
  },
);

export const localHitWithinCap = perLeg(
  {
    id: "local-hit-within-cap",
    statement:
      "A request's local cache hit is at most ⌊(N−1)/B⌋·B tokens: full blocks only, never the last prompt token.",
    subjects: TRUTH_AND_SPLITS,
    // v3's max(0, c − e) exceeds c only if e < 0, and c ≤ the cap on every path but a decode
    // leg's, where e = N − L keeps c − e = L − 1.
    promisedBy: ["truth", "vllm-pr38709", "vllm-pr37460"],
  },
  (view, subject) => {
    const s = sourcesOf(view, subject);
    if (s === null) return null;
    const cap = Math.floor((view.n - 1) / view.blockSize) * view.blockSize;
    if (s.local_cache_hit <= cap) return null;
    return `local_cache_hit ${s.local_cache_hit} exceeds ⌊(N−1)/B⌋·B = ${cap} (N = ${view.n}, B = ${view.blockSize})`;
  },
);

export const cachedIsLocalPlusExternal = perLeg(
  {
    id: "cached-is-local-plus-external",
    statement:
      "vllm:prompt_tokens_cached_total counts exactly the local cache hits plus the externally transferred tokens.",
    subjects: SPLIT_PROFILES,
    promisedBy: ["vllm-pr37460"],
  },
  (view, subject) => {
    if (subject === "truth" || subject === "simulator") return null;
    const r = splitReport(view.leg, subject);
    if (r === null || r.cached === r.local_cache_hit + r.external_kv_transfer) return null;
    return `cached ${r.cached} ≠ local_cache_hit ${r.local_cache_hit} + external_kv_transfer ${r.external_kv_transfer}`;
  },
);

export const decodeComputesOneToken = perLeg(
  {
    id: "decode-computes-one-token",
    statement:
      "A decode leg whose KV load succeeded and that was never preempted computes exactly one prompt token: the last, whose transferred KV it overwrites. (Not where a MultiConnector asks a KV cache tier first: a partial hit there wins, the P/D connector is told 0, and the decode side computes the rest.)",
    subjects: ["truth"],
    promisedBy: ["truth"],
  },
  ({ leg, n, tierFirst }) => {
    const t = leg.truth;
    if (leg.role !== "decode" || t === null || leg.num_preemptions > 0 || tierFirst) return null;
    if (leg.recomputed === null || leg.recomputed.failed_load > 0) return null;
    if (t.local_compute === 1) return null;
    return `the decode side computed ${t.local_compute} of ${n} prompt tokens (${sourcesText(t)})`;
  },
);

export const logThroughputNotInflated = perLeg(
  {
    id: "log-throughput-not-inflated",
    statement:
      "The log line's prompt throughput never counts more of a request's tokens than the instance computed for it: KV that arrived over the connector or from the cache is not prefill work.",
    subjects: PROFILE_NAMES,
    promisedBy: ["vllm-pr37460"],
  },
  (view, subject) => {
    if (subject === "truth" || subject === "simulator") return null;
    const logged = loggedPromptTokens(view.leg, subject);
    if (logged === null) return null;
    const computed = view.leg.truth?.local_compute ?? 0;
    if (logged <= computed) return null;
    return `the log line counts ${logged} prompt tokens; the instance computed ${computed}`;
  },
);

export const REQUEST_INVARIANTS: readonly Invariant[] = [
  sourcesSumToPrompt,
  sourcesNonNegative,
  localHitWithinCap,
  cachedIsLocalPlusExternal,
  decodeComputesOneToken,
  logThroughputNotInflated,
];
