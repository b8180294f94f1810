// Greedy simplification after fast-check's shrinking, which stops at local minima (a second
// request nobody needed, two decode instances where one would do): try each simplifying edit of
// the document, keep the first that still breaks, and repeat until none does. Every edit makes
// the document strictly smaller in one order — instances, then requests, then faults, then
// prompt tokens, then the rest — so the loop ends, and small breaks end on the same document
// whichever way fast-check reached them.

import {
  type InstanceEntry,
  type RequestEntry,
  type ScenarioDoc,
  requestsOf,
} from "./scenario-doc.ts";

type Edit = (doc: ScenarioDoc) => ScenarioDoc | null;

const instancesOf = (doc: ScenarioDoc) => (doc.instances ?? []) as InstanceEntry[];

function withRequests(doc: ScenarioDoc, requests: RequestEntry[]): ScenarioDoc {
  return { ...doc, workload: { requests } };
}

const isPd = (role: string) => role === "prefill" || role === "decode";

/** Without any prefill or decode instance there is no connector, and nothing for it to do. */
function withInstances(doc: ScenarioDoc, instances: InstanceEntry[]): ScenarioDoc {
  const out: ScenarioDoc = { ...doc, instances };
  if (!instances.some((i) => isPd(i.role))) {
    delete out.kv_transfer;
    delete out.proxy;
  }
  return out;
}

function instanceEdits(doc: ScenarioDoc, keepRoles: boolean): Edit[] {
  const instances = instancesOf(doc);
  const edits: Edit[] = [];
  // The smallest cluster of all: one unified instance.
  const oneUnified = instances.length === 1 && instances[0]!.role === "unified";
  if (!keepRoles && instances.length > 0 && !oneUnified) {
    edits.push((d) => withInstances(d, [{ name: "unified-0", role: "unified" }]));
  }
  instances.forEach((instance, index) => {
    const last = instances.filter((i) => i.role === instance.role).length === 1;
    if (instances.length === 1 || (keepRoles && last)) return;
    edits.push((d) =>
      withInstances(
        d,
        instancesOf(d).filter((_, i) => i !== index),
      ),
    );
  });
  instances.forEach((instance, index) => {
    if (instance.engine === undefined) return;
    edits.push((d) =>
      withInstances(
        d,
        instancesOf(d).map((i, j) => (j === index ? { name: i.name, role: i.role } : i)),
      ),
    );
  });
  return edits;
}

function promptLength(requests: readonly RequestEntry[], entry: RequestEntry): number {
  if (entry.prompt_tokens !== undefined) return entry.prompt_tokens;
  const source = requests.find((r) => r.id === entry.prompt_from);
  return source === undefined ? 1 : promptLength(requests, source);
}

function requestEdits(doc: ScenarioDoc): Edit[] {
  const requests = requestsOf(doc);
  if (requests === null) return [];
  const edits: Edit[] = [];
  const edit = (
    index: number,
    change: (r: RequestEntry, all: RequestEntry[]) => RequestEntry | null,
  ) =>
    edits.push((d) => {
      const all = requestsOf(d)!;
      const changed = change(all[index]!, all);
      if (changed === null) return null;
      return withRequests(
        d,
        all.map((r, i) => (i === index ? changed : r)),
      );
    });
  // Halves first: a scenario of hundreds of requests gets small in a few tries.
  if (requests.length > 3) {
    const half = Math.ceil(requests.length / 2);
    edits.push((d) => keepRequests(d, (i) => i < half));
    edits.push((d) => keepRequests(d, (i) => i >= half));
  }
  requests.forEach((entry, index) => {
    if (requests.length > 1) {
      edits.push((d) => {
        const all = requestsOf(d)!;
        const dropped = all[index]!;
        // A repeat of the dropped request keeps its length, with tokens of its own.
        const rest = all
          .filter((_, i) => i !== index)
          .map((r) =>
            r.prompt_from === dropped.id
              ? { ...withoutPrompt(r), prompt_tokens: promptLength(all, dropped) }
              : r,
          );
        return withRequests(d, rest);
      });
    }
  });
  requests.forEach((entry, index) => {
    if (entry.prompt_from !== undefined) {
      edit(index, (r, all) => ({ ...withoutPrompt(r), prompt_tokens: promptLength(all, r) }));
    }
    if (entry.prefix !== undefined) edit(index, (r) => withoutKey(r, "prefix"));
    const n = entry.prompt_tokens;
    if (n !== undefined && n > 1) {
      for (const smaller of [...new Set([1, Math.floor(n / 2), n - 1])]) {
        if (smaller < 1 || smaller >= n) continue;
        edit(index, (r) => {
          const prefix = r.prefix === undefined ? undefined : Math.min(r.prefix.tokens, smaller);
          const base = { ...withoutKey(r, "prefix"), prompt_tokens: smaller };
          return prefix === undefined
            ? base
            : { ...base, prefix: { ...r.prefix!, tokens: prefix } };
        });
      }
    }
    if (entry.max_tokens > 1) edit(index, (r) => ({ ...r, max_tokens: 1 }));
    if (entry.output_tokens !== undefined) edit(index, (r) => withoutKey(r, "output_tokens"));
    if (entry.at_s > 0) edit(index, (r) => ({ ...r, at_s: 0 }));
  });
  return edits;
}

/** How far a prompt may grow when a fault is traded for tokens. */
const TRADE_TOKENS = 16;

function settingEdits(doc: ScenarioDoc): Edit[] {
  const edits: Edit[] = [];
  const kv = doc.kv_transfer as Record<string, unknown> | undefined;
  // A fault is more machinery than a few tokens: on a one-request scenario, try every prompt
  // length up to a few tokens longer without it (a decode leg needs N ≥ 2 where a failed load
  // breaks the same invariant at N = 1).
  const requests = requestsOf(doc);
  const only = requests?.length === 1 ? requests[0]! : undefined;
  if (kv?.faults !== undefined && only?.prompt_tokens !== undefined) {
    for (let n = 1; n <= only.prompt_tokens + TRADE_TOKENS; n++) {
      edits.push((d) => {
        const r = requestsOf(d)![0]!;
        const prompt = { ...withoutKey(r, "prefix"), prompt_tokens: n };
        const withoutFaults = {
          ...d,
          kv_transfer: withoutKey(d.kv_transfer as Record<string, unknown>, "faults"),
        };
        return withRequests(withoutFaults, [prompt]);
      });
    }
  }
  for (const key of ["faults", "lease_s", "load_failure_policy", "connector"]) {
    if (kv?.[key] === undefined) continue;
    edits.push((d) => ({
      ...d,
      kv_transfer: withoutKey(d.kv_transfer as Record<string, unknown>, key),
    }));
  }
  const engine = doc.engine as Record<string, unknown> | undefined;
  for (const key of ["num_gpu_blocks", "max_num_batched_tokens", "long_prefill_token_threshold"]) {
    if (engine?.[key] === undefined) continue;
    edits.push((d) => ({ ...d, engine: withoutKey(d.engine as Record<string, unknown>, key) }));
  }
  return edits;
}

/** Keeps the requests whose index passes, and those they repeat. */
function keepRequests(doc: ScenarioDoc, keep: (index: number) => boolean): ScenarioDoc | null {
  const all = requestsOf(doc)!;
  const ids = new Set<string>();
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    if (!keep(i) && !ids.has(r.id)) continue;
    ids.add(r.id);
    if (r.prompt_from !== undefined) ids.add(r.prompt_from);
  }
  const kept = all.filter((r) => ids.has(r.id));
  return kept.length === all.length ? null : withRequests(doc, kept);
}

function withoutPrompt(r: RequestEntry): RequestEntry {
  const { prompt_from: _from, prompt_tokens: _tokens, prefix: _prefix, ...rest } = r;
  return rest as RequestEntry;
}

function withoutKey<T extends object>(value: T, key: string): T {
  const copy = { ...value } as Record<string, unknown>;
  delete copy[key];
  return copy as T;
}

export interface MinimizeOptions {
  /**
   * Keep at least one instance of every role the document has (`pdsim check` shrinks within
   * the user's topology; the generator search may end on a single unified instance).
   */
  keepRoles?: boolean;
  /** The most candidates to try. */
  budget?: number;
}

/**
 * Simplifies `doc` while `stillBreaks` holds for it (it must hold for `doc` itself). Edits the
 * loader refuses count as not breaking.
 */
export function minimize(
  doc: ScenarioDoc,
  stillBreaks: (candidate: ScenarioDoc) => boolean,
  options: MinimizeOptions = {},
): ScenarioDoc {
  const keepRoles = options.keepRoles ?? false;
  const budget = options.budget ?? 400;
  let current = doc;
  let tried = 0;
  let improved = true;
  while (improved && tried < budget) {
    improved = false;
    const edits = [
      ...instanceEdits(current, keepRoles),
      ...requestEdits(current),
      ...settingEdits(current),
    ];
    for (const edit of edits) {
      if (tried >= budget) break;
      const candidate = edit(current);
      if (candidate === null) continue;
      tried += 1;
      if (!stillBreaks(candidate)) continue;
      current = candidate;
      improved = true;
      break;
    }
  }
  return current;
}
