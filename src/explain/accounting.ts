// The accounting half of `pdsim explain`: one leg's ground truth next to what every vLLM
// version reports for it, and a one-line reason for each difference.

import type { InstanceLeg } from "../cluster/request-record.ts";
import { PROFILE_NAMES, PROFILES, type Profile } from "../accounting/profiles.ts";

export interface SourceRow {
  label: string;
  local_compute: number | null;
  local_cache_hit: number | null;
  external_kv_transfer: number | null;
  cached: number | null;
  recomputed: number | null;
  note: string | null;
}

export interface LegAccounting {
  instance: string;
  numPromptTokens: number;
  rows: SourceRow[];
  reasons: string[];
}

type Source = "local_compute" | "local_cache_hit" | "external_kv_transfer";
const SOURCES: readonly Source[] = ["local_compute", "local_cache_hit", "external_kv_transfer"];

export function legAccounting(leg: InstanceLeg, n: number): LegAccounting | null {
  if (leg.reported === null || leg.recomputed === null) return null;
  const t = leg.truth;
  const rc = leg.recomputed;
  const recomputedTotal = rc.last_token + rc.cache_hit_cap + rc.preemption + rc.failed_load;
  const rows: SourceRow[] = [
    {
      label: "truth (pdsim)",
      local_compute: t?.local_compute ?? null,
      local_cache_hit: t?.local_cache_hit ?? null,
      external_kv_transfer: t?.external_kv_transfer ?? null,
      cached: null,
      recomputed: recomputedTotal,
      note: t === null ? "no prefill here produced a token" : recomputedNote(rc),
    },
  ];
  const reasons: string[] = [];
  for (const profile of PROFILE_NAMES) {
    const r = leg.reported[profile];
    if ("prompt_throughput_tokens" in r) {
      rows.push({
        label: profile,
        local_compute: null,
        local_cache_hit: null,
        external_kv_transfer: null,
        cached: null,
        recomputed: null,
        note: `no source split; the log line's prompt throughput counts ${r.prompt_throughput_tokens}`,
      });
      if (t !== null && r.prompt_throughput_tokens !== t.local_compute) {
        reasons.push(
          `${profile}: the prompt throughput counts all ${r.prompt_throughput_tokens} prompt tokens, ` +
            `${t.local_compute} of which were computed here (the inflated decode throughput #33290 fixed)`,
        );
      }
      continue;
    }
    rows.push({ label: profile, ...r, recomputed: r.recomputed ?? null, note: null });
    const differing = SOURCES.filter((source) => r[source] !== (t?.[source] ?? 0));
    if (differing.length > 0) {
      const values = differing.map((s) => `${s} ${r[s]} vs ${t?.[s] ?? 0}`).join(", ");
      const whys = [...new Set(differing.map((s) => why(PROFILES[profile], s, leg, n)))].join("; ");
      reasons.push(`${profile}: ${values}: ${whys}`);
    }
    if (r.recomputed !== undefined && r.recomputed !== recomputedTotal) {
      reasons.push(
        `${profile}: recomputed ${r.recomputed} vs ${recomputedTotal}: ` +
          (leg.num_cached_tokens + 1 === n
            ? `num_cached_tokens = N − 1 triggers the guess r = 1${rc.last_token + rc.cache_hit_cap > 0 ? "" : ", although nothing cached was recomputed"}`
            : "r = [c + 1 = N] sees only num_cached_tokens, not why tokens were recomputed"),
      );
    }
  }
  return { instance: leg.instance, numPromptTokens: n, rows, reasons };
}

function recomputedNote(rc: NonNullable<InstanceLeg["recomputed"]>): string | null {
  const parts = Object.entries(rc)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? null : `recomputed: ${parts.join(", ")}`;
}

/** One line on why `profile` reports `source` differently from the truth for this leg. */
function why(profile: Profile, source: Source, leg: InstanceLeg, n: number): string {
  const c = leg.num_cached_tokens;
  const e = leg.num_external_computed_tokens;
  const rc = leg.recomputed!;
  if (leg.truth === null) {
    return profile.readsPrefillStats
      ? "the error output carries no PrefillStats"
      : `the error output carries c = ${c} (never ran here) and e = ${e}; ${formula(profile, source)}`;
  }
  if (profile.readsPrefillStats) {
    if (rc.failed_load > 0) {
      return "PrefillStats keep the first pass's counts (L, E); the load failed and this instance computed the rest";
    }
    if (rc.last_token > 0) {
      return "PrefillStats are recorded before the load: E = N − L includes the last token, whose KV is overwritten and recomputed after the −1 step";
    }
    return `PrefillStats record the last waiting pass: ${formula(profile, source)}`;
  }
  if (source === "external_kv_transfer" && rc.last_token > 0) {
    return "e = N − L counts the last token, transferred but overwritten by the −1 step";
  }
  if (source === "external_kv_transfer" && rc.failed_load > 0) {
    return `e is the connector's answer, not what arrived valid: ${rc.failed_load} transferred tokens were recomputed`;
  }
  // The versions that export their guess r also add it to the local hit.
  if (source === "local_cache_hit" && c + 1 === n && e === 0 && profile.exportsRecomputed) {
    return "c = N − 1 makes the formula add r = 1 to the local hit: the last token counted twice";
  }
  if (source === "local_cache_hit" && e > c) {
    return `e (${e}) was re-written on a later waiting pass while c (${c}) kept its first value: ${formula(profile, source)}`;
  }
  if (rc.preemption > 0) {
    return `num_cached_tokens (${c}) was written at the first RUNNING, before a preemption changed the prefill: ${formula(profile, source)}`;
  }
  return formula(profile, source);
}

function formula(profile: Profile, source: Source): string {
  const formulas = profile.sourceFormulas;
  if (formulas === null) throw new Error(`${profile.name} has no source split to explain`);
  return `${formulas[source]} (${profile.pullRequest})`;
}
