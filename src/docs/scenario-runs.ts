// Runs a scenario from scenarios/ for the guide, keeping everything a chapter quotes: the
// records, the log lines, the transfers and each instance's expositions.

import * as path from "node:path";
import { Cluster } from "../cluster/cluster.ts";
import type { LogLine } from "../cluster/instance.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";
import { PROFILES, type ProfileName } from "../accounting/profiles.ts";
import { loadScenario } from "../scenario/index.ts";
import type { Scenario } from "../scenario/types.ts";

export const SCENARIOS_DIR = path.resolve(import.meta.dirname, "../../scenarios");

export interface GuideRun {
  scenario: Scenario;
  cluster: Cluster;
  records: RequestRecord[];
  logLines: LogLine[];
  transfers: TransferRecord[];
  /** A sample of the selected profile's exposition on `instance` (0 when absent). */
  sample(instance: string, name: string, labels?: Record<string, string>): number;
  /** The same, summed over the instances whose name starts with `prefix`. */
  sampleOver(prefix: string, name: string, labels?: Record<string, string>): number;
  record(id: string): RequestRecord;
}

export function scenarioFile(name: string): string {
  return path.join(SCENARIOS_DIR, `${name}.yaml`);
}

export function runGuideScenario(name: string, profile?: ProfileName): GuideRun {
  const scenario = loadScenario(scenarioFile(name));
  const records: RequestRecord[] = [];
  const logLines: LogLine[] = [];
  const transfers: TransferRecord[] = [];
  const cluster = new Cluster(
    scenario,
    scenario.seed,
    {
      onRequestFinished: (r) => records.push(r),
      onLog: (l) => logLines.push(l),
      onTransfer: (t) => transfers.push(t),
    },
    [PROFILES[profile ?? scenario.metrics.profile]],
  );
  cluster.run();
  const sample = (instance: string, name: string, labels: Record<string, string> = {}) => {
    const found = cluster.instances.find((i) => i.name === instance);
    if (found === undefined) throw new Error(`${scenario.name}: no instance ${instance}`);
    return found.statLoggers.prometheus.sampleValue(name, labels) ?? 0;
  };
  return {
    scenario,
    cluster,
    records,
    logLines,
    transfers,
    sample,
    sampleOver: (prefix, name, labels = {}) =>
      cluster.instances
        .filter((i) => i.name.startsWith(prefix))
        .reduce((sum, i) => sum + sample(i.name, name, labels), 0),
    record: (id) => {
      const found = records.find((r) => r.id === id);
      if (found === undefined) throw new Error(`${scenario.name}: no request ${id}`);
      return found;
    },
  };
}
