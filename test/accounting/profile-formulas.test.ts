// Each vLLM version's PromptTokenStats formula against vectors worked out by hand from
// docs/vllm-reference.md#prompt-token-stats (block size 16 throughout): c = num_cached_tokens, e =
// num_external_computed_tokens, and the scheduler's PrefillStats (N, L, E) of current vLLM.
import { describe, expect, it } from "vitest";
import type { PromptTokenInputs } from "../../src/engine/stats.ts";
import { PROFILES, type ProfileName, report } from "../../src/accounting/profiles.ts";

/** [computed, local, external, cached] and, for the versions that exported it, recomputed. */
type Split = [number, number, number, number] | [number, number, number, number, number];

interface Vector {
  name: string;
  n: number;
  c: number;
  e: number;
  /** [L, E] of the PrefillStats the first output carried; null for none. */
  prefillStats: [number, number] | null;
  v1: Split;
  v2: Split;
  v3: Split;
  v4: Split;
  /** request_prefill_kv_computed_tokens: [before current vLLM (N − max(c, 0)), current (N − L − E)]. */
  kvComputed: [number, number];
}

const VECTORS: Vector[] = [
  {
    name: "a plain local prefill (no hit)",
    n: 100,
    c: 0,
    e: 0,
    prefillStats: [0, 0],
    v1: [100, 0, 0, 0, 0],
    v2: [100, 0, 0, 0, 0],
    v3: [100, 0, 0, 0],
    v4: [100, 0, 0, 0],
    kvComputed: [100, 100],
  },
  {
    name: "a local prefill with a two-block prefix hit",
    n: 100,
    c: 32,
    e: 0,
    prefillStats: [32, 0],
    v1: [68, 32, 0, 32, 0],
    v2: [68, 32, 0, 32, 0],
    v3: [68, 32, 0, 32],
    v4: [68, 32, 0, 32],
    kvComputed: [68, 68],
  },
  {
    name: "a full local hit with N = k·B (the last block recomputed: c = N − B)",
    n: 64,
    c: 48,
    e: 0,
    prefillStats: [48, 0],
    v1: [16, 48, 0, 48, 0],
    v2: [16, 48, 0, 48, 0],
    v3: [16, 48, 0, 48],
    v4: [16, 48, 0, 48],
    kvComputed: [16, 16],
  },
  {
    name: "a full local hit with N = k·B + 1 (c = N − 1: v1 adds a recomputed token)",
    n: 65,
    c: 64,
    e: 0,
    prefillStats: [64, 0],
    v1: [1, 65, 0, 64, 1],
    v2: [1, 65, 0, 64, 1],
    v3: [1, 64, 0, 64],
    v4: [1, 64, 0, 64],
    kvComputed: [1, 1],
  },
  {
    name: "a purely local request whose token N sits alone in a partial block (c = N − 1, never cached)",
    n: 33,
    c: 32,
    e: 0,
    prefillStats: [32, 0],
    v1: [1, 33, 0, 32, 1],
    v2: [1, 33, 0, 32, 1],
    v3: [1, 32, 0, 32],
    v4: [1, 32, 0, 32],
    kvComputed: [1, 1],
  },
  {
    name: "a one-token prompt (c = 0 = N − 1: v1 still counts a recomputed token)",
    n: 1,
    c: 0,
    e: 0,
    prefillStats: [0, 0],
    v1: [1, 1, 0, 0, 1],
    v2: [1, 1, 0, 0, 1],
    v3: [1, 0, 0, 0],
    v4: [1, 0, 0, 0],
    kvComputed: [1, 1],
  },
  {
    name: "a full-transfer NIXL decode (c = N − 1, e = N, L = 0)",
    n: 100,
    c: 99,
    e: 100,
    prefillStats: [0, 100],
    v1: [1, 0, 100, 99, 1],
    v2: [1, 0, 100, 99, 1],
    v3: [1, 0, 100, 99],
    v4: [0, 0, 100, 100],
    kvComputed: [1, 0],
  },
  {
    name: "a NIXL decode with a decode-side hit (c = N − 1, e = N − L, L = 32)",
    n: 100,
    c: 99,
    e: 68,
    prefillStats: [32, 68],
    v1: [1, 32, 68, 99, 1],
    v2: [1, 32, 68, 99, 1],
    v3: [1, 31, 68, 99],
    v4: [0, 32, 68, 100],
    kvComputed: [1, 0],
  },
  {
    name: "a P2P sync load (c = N − 1, e = N − 1 − L, L = 32)",
    n: 100,
    c: 99,
    e: 67,
    prefillStats: [32, 67],
    v1: [1, 33, 67, 99, 1],
    v2: [1, 33, 67, 99, 1],
    v3: [1, 32, 67, 99],
    v4: [1, 32, 67, 99],
    kvComputed: [1, 1],
  },
  {
    name: "a fail output (c = −1, e = 0, no PrefillStats)",
    n: 100,
    c: -1,
    e: 0,
    prefillStats: null,
    v1: [101, -1, 0, -1, 0],
    v2: [101, 0, 0, -1, 0],
    v3: [101, 0, 0, -1],
    v4: [0, 0, 0, 0],
    kvComputed: [100, 100],
  },
  {
    name: "a preemption after which the connector's answer grew (c = 16, e re-written to 60 > c + r)",
    n: 100,
    c: 16,
    e: 60,
    prefillStats: [16, 60],
    v1: [84, -44, 60, 16, 0],
    v2: [84, 0, 60, 16, 0],
    v3: [84, 0, 60, 16],
    v4: [24, 16, 60, 76],
    kvComputed: [84, 24],
  },
];

const VERSIONS = {
  v1: "vllm-pr33290",
  v2: "vllm-pr37160",
  v3: "vllm-pr38709",
  v4: "vllm-pr37460",
} as const satisfies Record<string, ProfileName>;

function inputsOf(v: Vector): PromptTokenInputs {
  return {
    requestId: "r",
    numPromptTokens: v.n,
    numCachedTokens: v.c,
    numExternalComputedTokens: v.e,
    prefillStats:
      v.prefillStats === null
        ? null
        : {
            numPromptTokens: v.n,
            localCacheHit: v.prefillStats[0],
            externalKvTransfer: v.prefillStats[1],
          },
  };
}

function splitOf(profile: ProfileName, inputs: PromptTokenInputs): Split {
  const r = report(PROFILES[profile], inputs);
  const split: Split = [r.localCompute, r.localCacheHit, r.externalKvTransfer, r.cached];
  return r.recomputed === null ? split : [...split, r.recomputed];
}

const sources = (s: Split) => s[0] + s[1] + s[2];

describe("each version's PromptTokenStats formula", () => {
  it.each(VECTORS)("reports the hand-computed split for $name", (v) => {
    const inputs = inputsOf(v);
    expect({
      v1: splitOf(VERSIONS.v1, inputs),
      v2: splitOf(VERSIONS.v2, inputs),
      v3: splitOf(VERSIONS.v3, inputs),
      v4: splitOf(VERSIONS.v4, inputs),
    }).toEqual({ v1: v.v1, v2: v.v2, v3: v.v3, v4: v.v4 });
  });

  it.each(VECTORS)(
    "sums the three sources as each version of vLLM's PromptTokenStats does (N + r, N + r and more when the clamp fires, N + max(0, e − c), N) for $name",
    (v) => {
      const inputs = inputsOf(v);
      const r = v.c + 1 === v.n ? 1 : 0;
      const sum = (profile: ProfileName) => sources(splitOf(profile, inputs));
      expect({
        v1: sum(VERSIONS.v1),
        v2: sum(VERSIONS.v2),
        v3: sum(VERSIONS.v3),
        v4: sum(VERSIONS.v4),
      }).toEqual({
        v1: v.n + r,
        // The clamp adds back what v1's local went below zero.
        v2: v.n + r + Math.max(0, v.e - v.c - r),
        v3: v.n + Math.max(0, v.e - v.c),
        // A `fail` output carries no PrefillStats and adds nothing to any prompt counter.
        v4: v.prefillStats === null ? 0 : v.n,
      });
      // And the hand-computed vectors agree with the same table.
      expect([sources(v.v1), sources(v.v2), sources(v.v3), sources(v.v4)]).toEqual([
        v.n + r,
        v.n + r + Math.max(0, v.e - v.c - r),
        v.n + Math.max(0, v.e - v.c),
        v.prefillStats === null ? 0 : v.n,
      ]);
    },
  );

  it.each(VECTORS)(
    "counts every prompt token in the log line before #33290 and the computed ones after it, and observes N − max(c, 0) (current vLLM: N − L − E) as prefill KV computed, for $name",
    (v) => {
      const inputs = inputsOf(v);
      const old = report(PROFILES["vllm-pre33290"], inputs);
      expect({
        hasSources: old.hasSources,
        recomputed: old.recomputed,
        log: old.logPromptTokens,
        total: old.promptTokensTotal,
        kv: old.prefillKvComputed,
      }).toEqual({
        hasSources: false,
        recomputed: null,
        log: v.n,
        total: v.n,
        kv: v.kvComputed[0],
      });
      for (const [name, profile] of Object.entries(VERSIONS)) {
        const r = report(PROFILES[profile], inputs);
        const split = v[name as keyof typeof VERSIONS];
        expect({
          profile,
          hasSources: r.hasSources,
          log: r.logPromptTokens,
          kv: r.prefillKvComputed,
        }).toEqual({
          profile,
          hasSources: true,
          log: split[0],
          kv: profile === "vllm-pr37460" ? v.kvComputed[1] : v.kvComputed[0],
        });
      }
    },
  );

  it("counts vllm:prompt_tokens_total as N in every version except current vLLM's fail output, which carries no PrefillStats", () => {
    const fail = inputsOf(VECTORS.find((v) => v.prefillStats === null)!);
    const plain = inputsOf(VECTORS[0]!);
    for (const profile of [...Object.values(VERSIONS), "vllm-pre33290" as const]) {
      expect({ profile, plain: report(PROFILES[profile], plain).promptTokensTotal }).toEqual({
        profile,
        plain: 100,
      });
      expect({ profile, fail: report(PROFILES[profile], fail).promptTokensTotal }).toEqual({
        profile,
        fail: profile === "vllm-pr37460" ? 0 : 100,
      });
    }
  });
});
