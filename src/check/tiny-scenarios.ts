// The last step to a smallest counterexample: after shrinking and greedy simplification, try
// every tiny scenario — one or two requests on the fewest instances, with or without a failed
// load — in a fixed order from the smallest up, and keep the first that still breaks. Whichever
// way the search reached a small break, it ends on the same scenario.

import {
  type InstanceEntry,
  type RequestEntry,
  type ScenarioDoc,
  requestsOf,
} from "./scenario-doc.ts";

/** Order: requests, then instances, then faults, then prompt tokens. */
type Size = [requests: number, instances: number, faults: number, tokens: number];

function sizeOf(doc: ScenarioDoc): Size | null {
  const requests = requestsOf(doc);
  if (requests === null) return null;
  const tokens = requests.reduce((sum, r) => sum + (r.prompt_tokens ?? 0), 0);
  const kv = doc.kv_transfer as { faults?: unknown } | undefined;
  const instances = (doc.instances as unknown[] | undefined)?.length ?? 0;
  return [requests.length, instances, kv?.faults === undefined ? 0 : 1, tokens];
}

function smaller(a: Size, b: Size): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The fewest instances with the same roles as the document (or none kept: a unified one first). */
function topologies(doc: ScenarioDoc, keepRoles: boolean): InstanceEntry[][] {
  const instances = (doc.instances ?? []) as InstanceEntry[];
  const firstOf = (role: string) => instances.find((i) => i.role === role);
  // The document's own first instance of each role, with its engine overrides.
  const own = ["unified", "prefill", "decode"].flatMap((r) => firstOf(r) ?? []);
  const pd = [
    { name: "prefill-0", role: "prefill" },
    { name: "decode-0", role: "decode" },
  ];
  return keepRoles ? [own] : [[{ name: "unified-0", role: "unified" }], pd];
}

const FAULTS = [
  null,
  { policy: "fail", probability: 1 },
  { policy: "recompute", probability: 1 },
] as const;

function tinyDoc(
  doc: ScenarioDoc,
  instances: InstanceEntry[],
  faults: (typeof FAULTS)[number],
  requests: RequestEntry[],
): ScenarioDoc {
  const out: ScenarioDoc = { ...doc, instances, workload: { requests } };
  const disaggregated = instances.some((i) => i.role !== "unified");
  if (!disaggregated) {
    delete out.kv_transfer;
    delete out.proxy;
    return out;
  }
  const kv = { ...((doc.kv_transfer as Record<string, unknown> | undefined) ?? {}) };
  delete kv.faults;
  delete kv.load_failure_policy;
  delete kv.lease_s;
  if (faults !== null) {
    kv.load_failure_policy = faults.policy;
    kv.faults = { load_failure_probability: faults.probability };
  }
  out.kv_transfer = kv;
  const proxy = doc.proxy as Record<string, unknown> | undefined;
  // The threshold sends short prompts to a unified instance; without one it has no meaning.
  if (proxy?.pd_min_prompt_tokens !== undefined && !instances.some((i) => i.role === "unified")) {
    const { pd_min_prompt_tokens: _min, ...rest } = proxy;
    out.proxy = rest;
  }
  return out;
}

/** Tiny scenarios in increasing size, up to prompts of `maxTokens`. */
function* tinyDocs(doc: ScenarioDoc, keepRoles: boolean, maxTokens: number) {
  for (const count of [1, 2]) {
    for (const instances of topologies(doc, keepRoles)) {
      const disaggregated = instances.some((i) => i.role !== "unified");
      for (const faults of FAULTS) {
        if (faults !== null && !disaggregated) continue;
        for (let n = 1; n <= maxTokens; n++) {
          // The second request repeats the first once it has finished: a full prefix hit.
          const requests: RequestEntry[] = [{ id: "r1", at_s: 0, prompt_tokens: n, max_tokens: 1 }];
          if (count === 2) requests.push({ id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 1 });
          yield tinyDoc(doc, instances, faults, requests);
        }
      }
    }
  }
}

/**
 * The first tiny scenario smaller than `doc` that still breaks, or `doc` itself. Prompts go up
 * to `maxTokens` (the block edges that matter for small block sizes).
 */
export function smallestTiny(
  doc: ScenarioDoc,
  stillBreaks: (candidate: ScenarioDoc) => boolean,
  options: { keepRoles?: boolean; maxTokens?: number } = {},
): ScenarioDoc {
  const size = sizeOf(doc);
  if (size === null) return doc;
  for (const candidate of tinyDocs(doc, options.keepRoles ?? false, options.maxTokens ?? 40)) {
    if (!smaller(sizeOf(candidate)!, size)) continue;
    if (stillBreaks(candidate)) return candidate;
  }
  return doc;
}
