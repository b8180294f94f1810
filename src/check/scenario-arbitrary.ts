// fast-check generators of whole scenario files: every topology (unified, 1P1D, nPmD, mixed),
// both connectors, block sizes, caches tight enough to evict and preempt, prompt lengths on the
// block edges (N < B, N = k·B, N = k·B + 1), shared prefixes and repeated prompts, bursts, and
// load failures under both policies, and external KV cache tiers (offloading, lmcache, behind a
// multi connector on P/D instances) small enough to evict. Every choice shrinks towards the
// simplest: one unified instance, one short request arriving at 0, no faults, no tier.

import fc from "fast-check";
import type { ProfileName } from "../accounting/profiles.ts";
import type { RequestEntry, ScenarioDoc } from "./scenario-doc.ts";

export const TOPOLOGIES = ["unified", "1P1D", "1P2D", "2P1D", "2P2D", "mixed"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** Long enough for every prompt and output the generator draws. */
const MAX_MODEL_LEN = 160;

type PromptDraw =
  | { kind: "tokens"; tokens: number }
  /** N = k·B + offset, with offset −1, 0 or 1: the lengths where the N − 1 cap bites. */
  | { kind: "edge"; k: number; offset: -1 | 0 | 1 }
  | { kind: "prefix"; group: "a" | "b"; prefixBlocks: number; extra: number }
  /** The whole prompt of an earlier request (index modulo those before it). */
  | { kind: "repeat"; of: number };

export interface RequestDraw {
  atMs: number;
  prompt: PromptDraw;
  maxTokens: number;
}

export interface FaultsDraw {
  policy: "fail" | "recompute";
  probability: number;
  /** A lease shorter than a read: the prefill side frees the blocks mid-transfer. */
  shortLease: boolean;
}

export interface TierDraw {
  connector: "offloading" | "lmcache";
  /** lmcache only: one tier shared by every instance (offloading's tier is per instance). */
  shared: boolean;
  /** Chunks of this many blocks (the offloading connector needs a multiple of the block). */
  chunkBlocks: number;
  /** lmcache only: tokens past the whole blocks, so that its hits end mid-block. */
  chunkExtra: number;
  /** Room for so few chunks that stores evict. */
  capacityChunks: number;
  /** On P/D instances: the tier connector before the P/D one in the multi list. */
  tierFirst: boolean;
}

export interface ScenarioDraw {
  topology: Topology;
  connector: "nixl" | "p2p_nccl";
  blockSize: number;
  /** Just enough blocks for one request of max_model_len: eviction and preemption. */
  tightCache: boolean;
  /** A step budget of two blocks' worth of tokens: chunked prefills. */
  smallBudget: boolean;
  requests: RequestDraw[];
  faults: FaultsDraw | null;
  tier: TierDraw | null;
  seed: number;
}

const promptDraw: fc.Arbitrary<PromptDraw> = fc.oneof(
  fc.record({ kind: fc.constant("tokens" as const), tokens: fc.integer({ min: 1, max: 80 }) }),
  fc.record({
    kind: fc.constant("edge" as const),
    k: fc.integer({ min: 1, max: 4 }),
    offset: fc.constantFrom<(-1 | 0 | 1)[]>(0, 1, -1),
  }),
  fc.record({
    kind: fc.constant("prefix" as const),
    group: fc.constantFrom<("a" | "b")[]>("a", "b"),
    prefixBlocks: fc.integer({ min: 0, max: 4 }),
    extra: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant("repeat" as const), of: fc.nat({ max: 7 }) }),
);

const requestDraw: fc.Arbitrary<RequestDraw> = fc.record({
  // Half the requests arrive together: bursts that queue, share links and preempt.
  atMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
  prompt: promptDraw,
  maxTokens: fc.integer({ min: 1, max: 48 }),
});

export const faultsDraw: fc.Arbitrary<FaultsDraw> = fc.record({
  policy: fc.constantFrom<("fail" | "recompute")[]>("fail", "recompute"),
  probability: fc.constantFrom(1, 0.5),
  shortLease: fc.boolean(),
});

export const tierDraw: fc.Arbitrary<TierDraw> = fc.record({
  connector: fc.constantFrom<("offloading" | "lmcache")[]>("offloading", "lmcache"),
  shared: fc.boolean(),
  chunkBlocks: fc.integer({ min: 1, max: 3 }),
  chunkExtra: fc.constantFrom(0, 1, 3),
  capacityChunks: fc.integer({ min: 1, max: 12 }),
  tierFirst: fc.boolean(),
});

/** Draws over the given topologies (all by default), shrinking towards the first. */
export function scenarioDraw(
  topologies: readonly Topology[] = TOPOLOGIES,
  /** "always": every scenario has a KV cache tier (the known breaks drawn on those paths). */
  tiers: "maybe" | "always" = "maybe",
): fc.Arbitrary<ScenarioDraw> {
  return fc.record({
    topology: fc.constantFrom(...topologies),
    connector: fc.constantFrom<("nixl" | "p2p_nccl")[]>("nixl", "p2p_nccl"),
    blockSize: fc.constantFrom(4, 8, 16),
    // With a tier always there, the draws aim at what tiers change most: chunked prefills that
    // save as they go, on a cache tight enough to preempt them.
    tightCache: tiers === "always" ? fc.constant(true) : fc.boolean(),
    smallBudget: tiers === "always" ? fc.constant(true) : fc.boolean(),
    requests: fc.array(requestDraw, { minLength: 1, maxLength: 8 }),
    faults: fc.option(faultsDraw, { freq: 3 }),
    tier: tiers === "always" ? tierDraw : fc.option(tierDraw, { freq: 2 }),
    seed: fc.nat({ max: 999 }),
  });
}

function promptEntry(
  draw: PromptDraw,
  blockSize: number,
  earlier: readonly string[],
): Pick<RequestEntry, "prompt_tokens" | "prompt_from" | "prefix"> {
  switch (draw.kind) {
    case "tokens":
      return { prompt_tokens: draw.tokens };
    case "edge":
      return { prompt_tokens: Math.max(1, draw.k * blockSize + draw.offset) };
    case "prefix": {
      const prefix = draw.prefixBlocks * blockSize;
      const n = prefix + draw.extra;
      return prefix === 0
        ? { prompt_tokens: n }
        : { prompt_tokens: n, prefix: { group: draw.group, tokens: prefix } };
    }
    case "repeat":
      return earlier.length === 0
        ? { prompt_tokens: 1 + draw.of }
        : { prompt_from: earlier[draw.of % earlier.length]! };
  }
}

function instancesOf(topology: Topology) {
  const named = (role: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ name: `${role}-${i}`, role }));
  switch (topology) {
    case "unified":
      return named("unified", 1);
    case "mixed":
      return [...named("unified", 1), ...named("prefill", 1), ...named("decode", 1)];
    default: {
      const p = Number(topology[0]);
      const d = Number(topology[2]);
      return [...named("prefill", p), ...named("decode", d)];
    }
  }
}

/** The scenario file a draw stands for, under `profile`. */
export function scenarioDocOf(draw: ScenarioDraw, profile: ProfileName): ScenarioDoc {
  const b = draw.blockSize;
  const ids: string[] = [];
  const requests = draw.requests.map((r, i) => {
    const entry: RequestEntry = {
      id: `r${i + 1}`,
      at_s: r.atMs / 1000,
      ...promptEntry(r.prompt, b, ids),
      max_tokens: r.maxTokens,
    };
    ids.push(entry.id);
    return entry;
  });
  const instances = instancesOf(draw.topology);
  const disaggregated = draw.topology !== "unified";
  const engine: Record<string, number | boolean> = {
    block_size: b,
    num_gpu_blocks: draw.tightCache ? Math.ceil(MAX_MODEL_LEN / b) + 1 : 512,
    max_model_len: MAX_MODEL_LEN,
    max_num_seqs: 8,
    max_num_batched_tokens: draw.smallBudget ? Math.max(2 * b, 8) : 512,
  };
  const doc: ScenarioDoc = {
    name: "generated",
    description: "Drawn by pdsim's scenario generator.",
    seed: draw.seed,
    engine,
    instances,
  };
  if (disaggregated) {
    const f = draw.faults;
    doc.kv_transfer = {
      connector: draw.connector,
      link: { latency_ms: 0.5, bandwidth_gb_per_s: 25 },
      ...(f === null
        ? {}
        : {
            load_failure_policy: f.policy,
            faults: { load_failure_probability: f.probability },
            ...(f.shortLease ? { lease_s: 0.002 } : {}),
          }),
    };
    if (draw.topology === "mixed") doc.proxy = { pd_min_prompt_tokens: 24 };
  }
  if (draw.tier !== null) withTier(doc, draw.tier, b, disaggregated);
  doc.workload = { requests };
  doc.metrics = { profile };
  return doc;
}

/** Adds the drawn tier and its connector: alone on unified instances, in a multi list on P/D. */
function withTier(doc: ScenarioDoc, tier: TierDraw, blockSize: number, pd: boolean): void {
  const chunk = tier.chunkBlocks * blockSize + (tier.connector === "lmcache" ? tier.chunkExtra : 0);
  doc.kv_cache_tiers = [
    {
      name: "tier",
      scope: tier.connector === "lmcache" && tier.shared ? "cluster" : "instance",
      capacity_tokens: tier.capacityChunks * chunk,
      chunk_tokens: chunk,
    },
  ];
  const entry = { connector: tier.connector, tier: "tier" };
  const transfer = (doc.kv_transfer ?? {}) as Record<string, unknown>;
  if (!pd) {
    doc.kv_transfer = { ...transfer, ...entry };
    return;
  }
  const pdEntry = { connector: transfer.connector as string };
  doc.kv_transfer = {
    ...transfer,
    connector: "multi",
    connectors: tier.tierFirst ? [entry, pdEntry] : [pdEntry, entry],
  };
}

export function scenarioDocArbitrary(
  profile: ProfileName,
  topologies: readonly Topology[] = TOPOLOGIES,
  tiers: "maybe" | "always" = "maybe",
): fc.Arbitrary<ScenarioDoc> {
  return scenarioDraw(topologies, tiers).map((draw) => scenarioDocOf(draw, profile));
}
