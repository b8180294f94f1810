// Perturbations of one scenario for `pdsim check`: a window of its requests (made explicit, so
// any window replays exactly), another seed, another block size, a cache tight enough to evict
// and preempt, a small step budget, prompts moved onto block edges, a burst, short outputs, and
// on P/D scenarios load failures and the other connector. Each shrinks towards "as written".

import fc from "fast-check";
import type { ProfileName } from "../accounting/profiles.ts";
import { isPdConnector } from "../scenario/names.ts";
import type { Scenario } from "../scenario/types.ts";
import { type FaultsDraw, faultsDraw } from "./scenario-arbitrary.ts";
import { type RequestEntry, type ScenarioDoc, explicitRequests } from "./scenario-doc.ts";

export interface Perturbation {
  /** Null: the scenario's own seed. */
  seed: number | null;
  /** Requests [start, start + count) of the explicit workload, plus those they repeat. */
  window: { start: number; count: number };
  blockSize: number | null;
  tightCache: boolean;
  smallBudget: boolean;
  /** Move every prompt length to the nearest k·B + offset. */
  promptEdge: -1 | 0 | 1 | null;
  /** Every request arrives at the first one's time. */
  burst: boolean;
  shortOutputs: boolean;
  /** P/D scenarios only. */
  faults: FaultsDraw | null;
  connector: "nixl" | "p2p_nccl" | null;
}

/**
 * What a scenario is perturbed from: its file as written, resolved, and its requests made
 * explicit; null for a workload whose prompts have no explicit form (a trace's block ids, a
 * session's repeated output), which is kept as written and not windowed, reshaped or burst.
 */
export interface CheckBase {
  doc: ScenarioDoc;
  scenario: Scenario;
  requests: RequestEntry[] | null;
}

export function checkBase(doc: ScenarioDoc, scenario: Scenario): CheckBase {
  const w = scenario.workload;
  if (w.kind !== "trace" && w.kind !== "sessions") {
    return { doc, scenario, requests: explicitRequests(scenario) };
  }
  const verbatim = structuredClone(doc);
  if (w.kind === "trace") {
    // A counterexample is written elsewhere: it names the trace by its absolute path.
    const workload = verbatim.workload as { trace: Record<string, unknown> };
    workload.trace = { ...workload.trace, path: w.file };
  }
  return { doc: verbatim, scenario, requests: null };
}

/** Windows are mostly small, so that a run is cheap and a break is easy to read. */
const SMALL_WINDOW = 8;

export function identity(base: CheckBase): Perturbation {
  return {
    seed: null,
    window: { start: 0, count: base.requests?.length ?? 0 },
    blockSize: null,
    tightCache: false,
    smallBudget: false,
    promptEdge: null,
    burst: false,
    shortOutputs: false,
    faults: null,
    connector: null,
  };
}

export function perturbations(base: CheckBase): fc.Arbitrary<Perturbation> {
  const disaggregated = base.scenario.instances.some((i) => i.role !== "unified");
  const engineAndFaults = {
    seed: fc.option(fc.nat({ max: 999_999 }), { freq: 2 }),
    blockSize: fc.option(fc.constantFrom(4, 8, 16, 32), { freq: 2 }),
    tightCache: fc.boolean(),
    smallBudget: fc.boolean(),
    faults: disaggregated ? fc.option(faultsDraw, { freq: 2 }) : fc.constant(null),
    connector: disaggregated
      ? fc.option(fc.constantFrom<("nixl" | "p2p_nccl")[]>("nixl", "p2p_nccl"), { freq: 2 })
      : fc.constant(null),
  };
  if (base.requests === null) {
    return fc.record({
      ...engineAndFaults,
      window: fc.constant({ start: 0, count: 0 }),
      promptEdge: fc.constant(null),
      burst: fc.constant(false),
      shortOutputs: fc.constant(false),
    });
  }
  const n = base.requests.length;
  return fc.record({
    seed: fc.option(fc.nat({ max: 999_999 }), { freq: 2 }),
    window: fc.record({
      start: fc.nat({ max: n - 1 }),
      count: fc.oneof(
        { arbitrary: fc.integer({ min: 1, max: Math.min(n, SMALL_WINDOW) }), weight: 4 },
        { arbitrary: fc.integer({ min: 1, max: n }), weight: 1 },
      ),
    }),
    blockSize: fc.option(fc.constantFrom(4, 8, 16, 32), { freq: 2 }),
    tightCache: fc.boolean(),
    smallBudget: fc.boolean(),
    promptEdge: fc.option(fc.constantFrom<(-1 | 0 | 1)[]>(0, 1, -1), { freq: 2 }),
    burst: fc.boolean(),
    shortOutputs: fc.boolean(),
    faults: disaggregated ? fc.option(faultsDraw, { freq: 2 }) : fc.constant(null),
    connector: disaggregated
      ? fc.option(fc.constantFrom<("nixl" | "p2p_nccl")[]>("nixl", "p2p_nccl"), { freq: 2 })
      : fc.constant(null),
  });
}

/** The requests of the window, with every earlier request one of them repeats. */
function windowOf(requests: readonly RequestEntry[], start: number, count: number): RequestEntry[] {
  const keep = new Set<number>();
  const byId = new Map(requests.map((r, i) => [r.id, i]));
  const add = (i: number) => {
    if (keep.has(i)) return;
    keep.add(i);
    const from = requests[i]!.prompt_from;
    if (from !== undefined) add(byId.get(from)!);
  };
  for (let i = start; i < Math.min(start + count, requests.length); i++) add(i);
  return requests.filter((_, i) => keep.has(i));
}

function onEdge(n: number, blockSize: number, offset: -1 | 0 | 1): number {
  const k = Math.max(1, Math.round(n / blockSize));
  return Math.max(1, k * blockSize + offset);
}

/** The scenario file a perturbation stands for, reported under `profile`. */
export function perturbedDoc(base: CheckBase, p: Perturbation, profile: ProfileName): ScenarioDoc {
  const { expect: _expect, ...rest } = base.doc;
  const doc: ScenarioDoc = structuredClone(rest);
  doc.name = `${String(base.doc.name ?? base.scenario.name)}-perturbed`;
  if (p.seed !== null) doc.seed = p.seed;
  if (base.requests !== null) doc.workload = perturbedRequests(base.requests, base.scenario, p);
  // A `vllm serve` line and the perturbation's engine keys would contradict each other at the
  // same level, so a file with lines is written out as what they resolved to: each instance's
  // whole engine, the served model, its cache dtype and the connector.
  const lines =
    doc.vllm_args !== undefined ||
    (base.doc.instances as Record<string, unknown>[]).some((i) => i.vllm_args !== undefined);
  if (lines) {
    delete doc.vllm_args;
    doc.model = {
      ...((doc.model as Record<string, unknown> | undefined) ?? {}),
      name: base.scenario.model.name,
      cache_dtype: base.scenario.model.cache_dtype,
    };
    doc.kv_transfer = {
      ...((doc.kv_transfer as Record<string, unknown> | undefined) ?? {}),
      connector: base.scenario.kv_transfer.connector,
    };
  }
  doc.instances = base.scenario.instances.map((resolved, i) => {
    const { vllm_args: _lines, ...written } = (base.doc.instances as Record<string, unknown>[])[i]!;
    const engine: Record<string, unknown> = lines
      ? { ...resolved.engine }
      : { ...((written.engine as Record<string, unknown> | undefined) ?? {}) };
    const e = resolved.engine;
    const blockSize = p.blockSize ?? e.block_size;
    const minBlocks = Math.ceil(e.max_model_len / blockSize) + 1;
    if (p.blockSize !== null) engine.block_size = blockSize;
    if (p.tightCache) engine.num_gpu_blocks = minBlocks;
    else if (e.num_gpu_blocks < minBlocks) engine.num_gpu_blocks = minBlocks;
    if (p.smallBudget) {
      engine.enable_chunked_prefill = true;
      engine.max_num_batched_tokens = Math.max(2 * blockSize, e.max_num_seqs, 8);
    }
    const { engine: _engine, ...instance } = written;
    return Object.keys(engine).length === 0 ? instance : { ...instance, engine };
  });
  if (p.blockSize !== null) fitTiersTo(doc, p.blockSize, base.scenario);
  if (p.connector !== null) {
    const instances = doc.instances as Record<string, unknown>[];
    doc.instances = instances.map((i) =>
      i.kv_transfer === undefined
        ? i
        : { ...i, kv_transfer: withPdConnector(i.kv_transfer as ConnectorSpec, p.connector!) },
    );
  }
  if (p.faults !== null || p.connector !== null) {
    let kv = { ...((doc.kv_transfer as Record<string, unknown> | undefined) ?? {}) };
    if (p.connector !== null) kv = withPdConnector(kv as ConnectorSpec, p.connector) as typeof kv;
    if (p.faults !== null) {
      kv.load_failure_policy = p.faults.policy;
      kv.faults = { load_failure_probability: p.faults.probability };
      if (p.faults.shortLease) kv.lease_s = 0.002;
    }
    doc.kv_transfer = kv;
  }
  doc.metrics = { ...((doc.metrics as Record<string, unknown> | undefined) ?? {}), profile };
  return doc;
}

/** The window's requests, moved onto block edges, shortened or burst as `p` says. */
function perturbedRequests(
  all: readonly RequestEntry[],
  scenario: Scenario,
  p: Perturbation,
): { requests: RequestEntry[] } {
  const edgeBlock = p.blockSize ?? scenario.instances[0]!.engine.block_size;
  let requests = windowOf(all, p.window.start, p.window.count).map((r) => {
    const out: RequestEntry = { ...r };
    if (p.promptEdge !== null && out.prompt_tokens !== undefined) {
      out.prompt_tokens = onEdge(out.prompt_tokens, edgeBlock, p.promptEdge);
      if (out.prefix !== undefined) {
        out.prefix = { ...out.prefix, tokens: Math.min(out.prefix.tokens, out.prompt_tokens) };
      }
    }
    if (p.shortOutputs) {
      out.max_tokens = Math.min(out.max_tokens, 2);
      delete out.output_tokens;
    }
    return out;
  });
  if (p.burst) requests = requests.map((r) => ({ ...r, at_s: requests[0]!.at_s }));
  return { requests };
}

type ConnectorSpec = { connector?: string; connectors?: { connector: string }[] };

/** The spec with its P/D connector (alone, or in a multi list) replaced by `kind`. */
function withPdConnector(spec: ConnectorSpec, kind: "nixl" | "p2p_nccl"): ConnectorSpec {
  if (spec.connector !== "multi") return { ...spec, connector: kind };
  return {
    ...spec,
    connectors: (spec.connectors ?? []).map((e) =>
      isPdConnector(e.connector) ? { ...e, connector: kind } : e,
    ),
  };
}

/**
 * Tiers' chunks rounded up to whole blocks of the perturbed size (the OffloadingConnector needs
 * them whole), and their capacity to at least one chunk.
 */
function fitTiersTo(doc: ScenarioDoc, blockSize: number, resolved: Scenario): void {
  const tiers = doc.kv_cache_tiers as Record<string, unknown>[] | undefined;
  if (tiers === undefined) return;
  doc.kv_cache_tiers = tiers.map((tier, i) => {
    const { capacity_gb: _gb, ...rest } = tier;
    const chunk = Math.ceil(Number(tier.chunk_tokens ?? 256) / blockSize) * blockSize;
    const capacity = resolved.kv_cache_tiers[i]!.capacity_tokens;
    return { ...rest, chunk_tokens: chunk, capacity_tokens: Math.max(capacity, chunk) };
  });
}
