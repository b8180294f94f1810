// The request legs a finished run produced, with what every request-level invariant reads.

import type { InstanceLeg, ProfileSources, RequestRecord } from "../../cluster/request-record.ts";
import type { ProfileName } from "../../accounting/profiles.ts";
import type { Scenario } from "../../scenario/types.ts";
import { connectorEntriesOf, connectorSpecOf, usesTier } from "../../scenario/connector-spec.ts";

export interface LegView {
  record: RequestRecord;
  leg: InstanceLeg;
  /** The prompt length N. */
  n: number;
  blockSize: number;
  /** `request@instance`, for reports. */
  where: string;
  /**
   * The instance's MultiConnector asks a tier connector before its P/D one, so a tier's hit, when
   * there is one, is what a decode leg loads (and the P/D connector is told 0).
   */
  tierFirst: boolean;
}

export function legsOf(scenario: Scenario, records: readonly RequestRecord[]): LegView[] {
  const blockSize = new Map(scenario.instances.map((i) => [i.name, i.engine.block_size]));
  const tierFirst = new Map(
    scenario.instances.map((i) => {
      const first = connectorEntriesOf(connectorSpecOf(scenario.kv_transfer, i))[0];
      return [i.name, first !== undefined && usesTier(first)];
    }),
  );
  return records.flatMap((record) =>
    record.legs.map((leg) => ({
      record,
      leg,
      n: record.prompt_tokens,
      blockSize: blockSize.get(leg.instance)!,
      where: `${record.id}@${leg.instance}`,
      tierFirst: tierFirst.get(leg.instance)!,
    })),
  );
}

/** The three sources and the rest a version reported for the leg, if it split them at all. */
export type SplitReport = Exclude<ProfileSources, { prompt_throughput_tokens: number }>;

export function splitReport(leg: InstanceLeg, profile: ProfileName): SplitReport | null {
  const r = leg.reported?.[profile];
  if (r === undefined || "prompt_throughput_tokens" in r) return null;
  return r;
}

/** What the version's log line counted in its prompt throughput for the leg. */
export function loggedPromptTokens(leg: InstanceLeg, profile: ProfileName): number | null {
  const r = leg.reported?.[profile];
  if (r === undefined) return null;
  return "prompt_throughput_tokens" in r ? r.prompt_throughput_tokens : r.local_compute;
}

export function sourcesText(s: {
  local_compute: number;
  local_cache_hit: number;
  external_kv_transfer: number;
}): string {
  return `local_compute ${s.local_compute}, local_cache_hit ${s.local_cache_hit}, external_kv_transfer ${s.external_kv_transfer}`;
}
