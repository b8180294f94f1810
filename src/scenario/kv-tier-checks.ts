// Checks of the connectors each instance runs against its role, the tiers they name and the
// instance's block size: what vLLM would refuse at start-up, or what pdsim cannot model.
import type { PathSegment, Problem } from "./paths.ts";
import type { ScenarioFile } from "./schema.ts";
import { instanceEngine } from "./instance-engine.ts";
import { suggestOrList } from "./suggest.ts";
import { isPdConnector } from "./names.ts";
import type { ConnectorEntry } from "./types.ts";

type SpecSource = { connector?: string; tier?: string; connectors?: ConnectorEntry[] };

export function checkConnectors(file: ScenarioFile): Problem[] {
  const problems: Problem[] = [];
  const tierNames = file.kv_cache_tiers.map((t) => t.name);
  file.kv_cache_tiers.forEach((tier, i) => {
    const earlier = tierNames.indexOf(tier.name);
    if (earlier !== i) {
      problems.push({
        path: ["kv_cache_tiers", i, "name"],
        at: "value",
        message: `duplicate tier name '${tier.name}': kv_cache_tiers[${earlier}] already uses it`,
      });
    }
    if (tier.capacity_tokens !== undefined && tier.capacity_tokens < tier.chunk_tokens) {
      problems.push({
        path: ["kv_cache_tiers", i, "capacity_tokens"],
        at: "value",
        message: `tier '${tier.name}' holds ${tier.capacity_tokens} tokens, less than one chunk of ${tier.chunk_tokens}; expected at least chunk_tokens`,
      });
    }
  });

  const checkSpec = (spec: SpecSource, at: readonly PathSegment[], instances: number[]): void => {
    if (spec.connector === "multi") {
      const list = spec.connectors ?? [];
      if (list.length === 0) {
        problems.push({
          path: [...at, spec.connectors === undefined ? "connector" : "connectors"],
          at: "value",
          message:
            "a multi connector needs a non-empty 'connectors' list, e.g. [{ connector: nixl }, { connector: offloading, tier: cpu }]",
        });
      }
      let pd = 0;
      const tiersSeen = new Set<string>();
      list.forEach((entry, k) => {
        const path = [...at, "connectors", k];
        if (entry.connector === "multi" || entry.connector === "none") {
          problems.push({
            path: [...path, "connector"],
            at: "value",
            message:
              entry.connector === "multi"
                ? "a multi connector cannot hold another multi (vLLM's MultiConnector lists plain connectors); list its connectors here instead"
                : "'none' has no place in a multi connector's list; leave it out",
          });
          return;
        }
        if (isPdConnector(entry.connector) && ++pd === 2) {
          problems.push({
            path: [...path, "connector"],
            at: "value",
            message: "a multi connector holds at most one P/D connector (nixl or p2p_nccl)",
          });
        }
        if (entry.tier !== undefined) {
          if (tiersSeen.has(entry.tier)) {
            problems.push({
              path: [...path, "tier"],
              at: "value",
              message: `tier '${entry.tier}' is already in this list; give each connector of a multi connector its own tier`,
            });
          }
          tiersSeen.add(entry.tier);
        }
        checkEntry(entry, path, instances);
      });
      return;
    }
    if (spec.connectors !== undefined) {
      problems.push({
        path: [...at, "connectors"],
        at: "key",
        message: `'connectors' lists the connectors of a multi connector; this one is ${spec.connector ?? "the default"}`,
      });
    }
    if (spec.connector !== undefined) {
      checkEntry(
        {
          connector: spec.connector as ConnectorEntry["connector"],
          ...(spec.tier === undefined ? {} : { tier: spec.tier }),
        },
        at,
        instances,
      );
    }
  };

  const checkEntry = (
    entry: ConnectorEntry,
    at: readonly PathSegment[],
    instances: number[],
  ): void => {
    const tiered = entry.connector === "offloading" || entry.connector === "lmcache";
    if (!tiered) {
      if (entry.tier !== undefined) {
        problems.push({
          path: [...at, "tier"],
          at: "key",
          message: `connector ${entry.connector} uses no tier; 'tier' is for offloading and lmcache`,
        });
      }
      return;
    }
    if (entry.tier === undefined) {
      problems.push({
        path: [...at, "connector"],
        at: "value",
        message: `connector ${entry.connector} needs a 'tier' naming one of kv_cache_tiers${tierNames.length === 0 ? ", and the scenario has none" : ` (${tierNames.join(", ")})`}`,
      });
      return;
    }
    const tier = file.kv_cache_tiers.find((t) => t.name === entry.tier);
    if (tier === undefined) {
      problems.push({
        path: [...at, "tier"],
        at: "value",
        message: `no tier named '${entry.tier}'${suggestOrList(entry.tier, tierNames, "kv_cache_tiers are")}`,
      });
      return;
    }
    if (entry.connector !== "offloading") return;
    if (tier.scope === "cluster") {
      problems.push({
        path: [...at, "tier"],
        at: "value",
        message: `tier '${tier.name}' has scope cluster, but vLLM's OffloadingConnector keeps its CPU tier inside each instance; give the tier scope instance, or use lmcache for a shared cache`,
      });
    }
    for (const i of instances) {
      const blockSize = instanceEngine(file, i).engine.block_size;
      if (tier.chunk_tokens % blockSize === 0) continue;
      problems.push({
        path: [...at, "tier"],
        at: "value",
        message: `the offloading connector's block (tier '${tier.name}', chunk_tokens ${tier.chunk_tokens}) must be a multiple of instance '${file.instances[i]!.name}''s block_size ${blockSize}, as vLLM requires`,
      });
      break;
    }
  };

  const usingScenarioLevel = file.instances
    .map((instance, i) => (instance.kv_transfer === undefined ? i : -1))
    .filter((i) => i !== -1);
  checkSpec(file.kv_transfer, ["kv_transfer"], usingScenarioLevel);
  file.instances.forEach((instance, i) => {
    const own = instance.kv_transfer;
    if (own === undefined) return;
    const at: PathSegment[] = ["instances", i, "kv_transfer"];
    checkSpec(own, at, [i]);
    if (instance.role !== "unified") return;
    // The scenario-level connector may name a P/D one for its P/D instances; an instance's own
    // may not, on an instance that serves whole requests.
    const entries = own.connector === "multi" ? (own.connectors ?? []) : [own];
    const k = entries.findIndex((e) => isPdConnector(e.connector));
    if (k === -1) return;
    problems.push({
      path:
        own.connector === "multi" ? [...at, "connectors", k, "connector"] : [...at, "connector"],
      at: "value",
      message: `unified instance '${instance.name}' serves whole requests and moves no KV between instances; its own connectors can be offloading or lmcache, not ${entries[k]!.connector}`,
    });
  });
  return problems;
}
