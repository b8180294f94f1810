// An instance's connectors written back as vLLM's --kv-transfer-config: what `pdsim config` prints
// in the instance's `vllm serve` line. A tier becomes the connector's own settings: the
// OffloadingConnector's block_size and cpu_bytes_to_use, LMCache's chunk_size and
// max_local_cpu_size (passed with the `lmcache.` prefix LMCache reads from kv_connector_extra_config).
import { connectorEntriesOf, connectorSpecOf, usesTier } from "./connector-spec.ts";
import type { ConnectorEntry, InstanceConfig, Scenario } from "./types.ts";
import type { KvRole } from "./vllm-kv-transfer.ts";

export interface RenderedKvTransfer {
  config: Record<string, unknown>;
  /** What the line cannot say, for the reader; null when it says everything. */
  note: string | null;
}

/** The instance's --kv-transfer-config, or null when it runs no connector. */
export function renderedKvTransfer(
  scenario: Scenario,
  instance: InstanceConfig,
  pdRole: KvRole,
): RenderedKvTransfer | null {
  const entries = connectorEntriesOf(connectorSpecOf(scenario.kv_transfer, instance)).filter(
    (e) => usesTier(e) || instance.role !== "unified",
  );
  if (entries.length === 0) return null;
  const notes: string[] = [];
  const configs = entries.map((entry) => entryConfig(scenario, entry, pdRole, notes));
  const config =
    configs.length === 1
      ? configs[0]!
      : {
          kv_connector: "MultiConnector",
          kv_role: entries.some((e) => !usesTier(e)) ? pdRole : "kv_both",
          kv_connector_extra_config: { connectors: configs },
        };
  return { config, note: notes.length === 0 ? null : notes.join("; ") };
}

function entryConfig(
  scenario: Scenario,
  entry: ConnectorEntry,
  pdRole: KvRole,
  notes: string[],
): Record<string, unknown> {
  switch (entry.connector) {
    case "nixl":
      return { kv_connector: "NixlConnector", kv_role: pdRole };
    case "p2p_nccl":
      return { kv_connector: "P2pNcclConnector", kv_role: pdRole };
    case "offloading": {
      const tier = tierOf(scenario, entry);
      return {
        kv_connector: "OffloadingConnector",
        kv_role: "kv_both",
        kv_connector_extra_config: {
          block_size: tier.chunk_tokens,
          cpu_bytes_to_use: tier.capacity_tokens * scenario.model.kv_bytes_per_token,
        },
      };
    }
    case "lmcache": {
      const tier = tierOf(scenario, entry);
      const gb = (tier.capacity_tokens * scenario.model.kv_bytes_per_token) / 1e9;
      if (tier.scope === "cluster") {
        notes.push(
          `tier ${tier.name} is shared: LMCache needs a remote backend all instances reach (lmcache.remote_url), which the scenario does not name`,
        );
      }
      return {
        kv_connector: "LMCacheConnectorV1",
        kv_role: "kv_both",
        kv_connector_extra_config: {
          "lmcache.chunk_size": tier.chunk_tokens,
          "lmcache.max_local_cpu_size": Number(gb.toFixed(3)),
        },
      };
    }
    case "none":
    case "multi":
      throw new Error(`connector ${entry.connector} in a connector list`);
  }
}

function tierOf(scenario: Scenario, entry: ConnectorEntry) {
  const tier = scenario.kv_cache_tiers.find((t) => t.name === entry.tier);
  if (tier === undefined) throw new Error(`no kv_cache_tiers entry named ${entry.tier}`);
  return tier;
}
