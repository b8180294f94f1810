// Scenario files as plain documents, the form `pdsim check` perturbs and writes back out: a
// workload made explicit (so any subset of it is a valid, exact replay), and a one-line
// description of a document's shape for reports.

import { RngStreams } from "../../sim/index.ts";
import { parseScenario } from "../scenario/index.ts";
import type { ExplicitRequestConfig, Scenario } from "../scenario/types.ts";
import { workloadSource } from "../workload/workload.ts";
import { stringify } from "yaml";

/** A scenario file's top-level mapping, as YAML or JSON would give it. */
export type ScenarioDoc = Record<string, unknown>;

export type RequestEntry = Omit<ExplicitRequestConfig, "line">;

/** An entry of a document's `instances` list, as written. */
export interface InstanceEntry {
  name: string;
  role: string;
  engine?: Record<string, unknown>;
}

/** A document's explicit requests, or null for a generated workload. */
export function requestsOf(doc: ScenarioDoc): RequestEntry[] | null {
  const workload = doc.workload as { requests?: RequestEntry[] } | undefined;
  return workload?.requests ?? null;
}

/**
 * The scenario's requests as explicit entries that reproduce them exactly: the same ids (so the
 * same token ids), arrival times, prefixes and lengths, drawn with the scenario's own seed.
 */
export function explicitRequests(scenario: Scenario): RequestEntry[] {
  const w = scenario.workload;
  if (w.kind === "explicit") return w.requests.map(({ line: _line, ...entry }) => entry);
  const source = workloadSource(w, new RngStreams(scenario.seed));
  const entries: RequestEntry[] = [];
  for (let r = source.next(); r !== null; r = source.next()) {
    const n = r.prompt.length;
    // A trace's shared prefixes (Mooncake hash ids) have no explicit form: its requests become
    // unshared prompts of the same lengths and times.
    const prefixTokens = w.kind === "generated" ? Math.min(w.shared_prefix?.tokens ?? 0, n) : 0;
    entries.push({
      id: r.id,
      at_s: r.arrivalTime / 1e6,
      prompt_tokens: n,
      ...(r.prefixGroup === undefined
        ? {}
        : { prefix: { group: r.prefixGroup, tokens: prefixTokens } }),
      max_tokens: r.maxTokens,
      ...(r.stopAfterTokens === undefined ? {} : { output_tokens: r.stopAfterTokens }),
    });
  }
  return entries;
}

export function docToYaml(doc: ScenarioDoc): string {
  return stringify(doc, { lineWidth: 100, flowCollectionPadding: true });
}

/** Parses a document through the real loader, as if read from `file`. */
export function scenarioOfDoc(doc: ScenarioDoc, file = "counterexample.yaml"): Scenario {
  return parseScenario(docToYaml(doc), file);
}

/**
 * The shape of a scenario in one line, e.g. `1P1D nixl, B=4: 1 request (N=2)` or
 * `unified, B=16: 2 requests (N=17; N=17 repeating r1)`.
 */
export function describeScenario(scenario: Scenario): string {
  const roles = scenario.instances.map((i) => i.role);
  const count = (role: string) => roles.filter((r) => r === role).length;
  const p = count("prefill");
  const d = count("decode");
  const u = count("unified");
  const parts: string[] = [];
  if (p + d > 0) parts.push(`${p}P${d}D`);
  if (u > 0) parts.push(u === 1 ? "unified" : `${u} unified`);
  let shape = parts.join(" + ");
  const kv = scenario.kv_transfer;
  if (p + d > 0 || kv.connector !== "none") shape += ` ${kv.connector}`;
  if (kv.connector === "multi") {
    shape += ` (${(kv.connectors ?? []).map((c) => c.connector).join(", ")})`;
  }
  if (p + d > 0 && kv.faults.load_failure_probability > 0) {
    shape += `, load failures p=${kv.faults.load_failure_probability} ${kv.load_failure_policy}`;
  }
  for (const t of scenario.kv_cache_tiers) {
    const chunks = Math.floor(t.capacity_tokens / t.chunk_tokens);
    shape += `, tier of ${chunks}×${t.chunk_tokens} tokens${t.scope === "cluster" ? " shared" : ""}`;
  }
  const blockSizes = [...new Set(scenario.instances.map((i) => i.engine.block_size))];
  shape += `, B=${blockSizes.join("/")}`;
  const requests = scenario.workload.kind === "explicit" ? scenario.workload.requests : null;
  if (requests === null) return `${shape}: generated workload`;
  const lengths = new Map<string, number>();
  const described = requests.map((r) => {
    const n = r.prompt_tokens ?? lengths.get(r.prompt_from ?? "") ?? 0;
    lengths.set(r.id, n);
    const from = r.prompt_from === undefined ? "" : ` repeating ${r.prompt_from}`;
    const prefix = r.prefix === undefined ? "" : ` with ${r.prefix.tokens} from ${r.prefix.group}`;
    return `N=${n}${from}${prefix}`;
  });
  const noun = requests.length === 1 ? "request" : "requests";
  return `${shape}: ${requests.length} ${noun} (${described.join("; ")})`;
}
