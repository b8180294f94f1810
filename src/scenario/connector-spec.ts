// Which connector each instance runs: its own `kv_transfer`, else the scenario's; and the parts
// of it the cluster builds on: the P/D connector that moves KV between prefill and decode
// instances, and the connectors that use an external tier.
import { isPdConnector, isTierConnector } from "./names.ts";
import type {
  ConnectorEntry,
  ConnectorSpec,
  InstanceConfig,
  PdConnectorName,
  Scenario,
} from "./types.ts";

export function connectorSpecOf(
  kvTransfer: Scenario["kv_transfer"],
  instance: Pick<InstanceConfig, "kv_connector">,
): ConnectorSpec {
  if (instance.kv_connector !== undefined) return instance.kv_connector;
  const { connector, tier, connectors } = kvTransfer;
  return {
    connector,
    ...(tier === undefined ? {} : { tier }),
    ...(connectors === undefined ? {} : { connectors }),
  };
}

/** The connectors a spec runs, in the order a MultiConnector asks them. */
export function connectorEntriesOf(spec: ConnectorSpec): ConnectorEntry[] {
  if (spec.connector === "multi") return spec.connectors ?? [];
  if (spec.connector === "none") return [];
  return [{ connector: spec.connector, ...(spec.tier === undefined ? {} : { tier: spec.tier }) }];
}

/** The connector of the spec that moves KV from prefill to decode instances; null: none. */
export function pdConnectorOf(spec: ConnectorSpec): PdConnectorName | null {
  for (const { connector } of connectorEntriesOf(spec)) {
    if (isPdConnector(connector)) return connector;
  }
  return null;
}

/** Whether the entry loads from and saves to a kv_cache_tiers entry. */
export function usesTier(entry: ConnectorEntry): boolean {
  return isTierConnector(entry.connector);
}
