// Random whole runs for the accounting properties: the P/D generator's clusters, also as unified
// or mixed clusters, with the p2p_nccl connector as well as nixl, with load failures under both
// policies, and with workloads of repeated prompts whose lengths sit on block boundaries (full
// prefix hits, N = k·B and N = k·B + 1). Each run exports every profile side by side.
import fc from "fast-check";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { InstanceExporterError } from "../../src/cluster/instance.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import type { PromptTokenInputs } from "../../src/engine/stats.ts";
import { PROFILE_NAMES, PROFILES, type ProfileName } from "../../src/accounting/profiles.ts";
import type { Scenario } from "../../src/scenario/index.ts";
import { scenarioFrom } from "../cluster/helpers.ts";
import {
  type ClusterDraw,
  type FaultDraw,
  clusterDraw,
  faultDraw,
  scenarioFileOf,
} from "../pd/generators.ts";

export type Shape = "pd" | "unified" | "mixed";

export interface AccountingDraw {
  cluster: ClusterDraw & { faults: FaultDraw | null };
  shape: Shape;
  connector: "nixl" | "p2p_nccl";
  /** Prompts drawn from a few lengths around block boundaries, all from one shared prefix. */
  repeatedPrompts: boolean;
  /**
   * Tight pools and a small step budget on every instance, busy with long outputs: prefills are
   * chunked and preempted midway, before their first token (mostly on unified instances, as a
   * prefill leg never grows).
   */
  prefillPressure: boolean;
}

export const accountingDraw: fc.Arbitrary<AccountingDraw> = fc.record({
  cluster: clusterDraw(fc.option(faultDraw, { freq: 4 })),
  shape: fc.constantFrom<Shape>("pd", "unified", "mixed"),
  connector: fc.constantFrom("nixl", "nixl", "p2p_nccl"),
  repeatedPrompts: fc.boolean(),
  prefillPressure: fc.constantFrom(true, true, false),
});

function underPrefillPressure(d: ClusterDraw & { faults: FaultDraw | null }) {
  const tight = (i: ClusterDraw["prefill"][number]) => ({
    ...i,
    spareBlocks: Math.min(i.spareBlocks, 2),
    maxNumSeqs: Math.max(i.maxNumSeqs, 4),
  });
  return {
    ...d,
    prefill: d.prefill.map(tight),
    // A unified cluster is built from both lists.
    decode: d.decode.map(tight),
    ratePerS: Math.max(d.ratePerS, 500),
    numRequests: Math.max(d.numRequests, 12),
    promptMin: Math.max(d.promptMin, 40),
    maxTokens: Math.max(d.maxTokens, 100),
  };
}

/** Lengths that are, or follow, multiples of every block size the generator draws (4 to 32). */
const REPEATED_LENGTHS = [1, 32, 33, 64, 65, 96, 97];

type InstanceFile = { name: string; role: string; engine: Record<string, number> };

export function accountingScenario(draw: AccountingDraw): Scenario {
  const cluster = draw.prefillPressure ? underPrefillPressure(draw.cluster) : draw.cluster;
  const file = scenarioFileOf(cluster) as {
    instances: InstanceFile[];
    kv_transfer: Record<string, unknown>;
    proxy: Record<string, unknown>;
    workload: Record<string, unknown>;
    engine: { max_model_len: number };
  };
  const maxModelLen = file.engine.max_model_len;
  if (draw.prefillPressure) {
    for (const i of file.instances) {
      i.engine.max_num_batched_tokens = Math.max(i.engine.max_num_seqs!, 24);
    }
  }
  if (draw.repeatedPrompts) {
    const values = REPEATED_LENGTHS.filter((n) => n < maxModelLen);
    file.workload.prompt_tokens = { dist: "empirical", values, weights: values.map(() => 1) };
    // Every prompt is the first tokens of its group's prefix, so equal lengths repeat exactly.
    file.workload.shared_prefix = { groups: 2, tokens: Math.max(...values), probability: 0.9 };
  }
  file.kv_transfer.connector = draw.connector;
  switch (draw.shape) {
    case "pd":
      break;
    case "unified": {
      file.instances = file.instances.map((i, index) => ({
        ...i,
        name: `u${index}`,
        role: "unified",
      }));
      // No prefill or decode instance: no connector, so no KV-transfer settings either.
      file.kv_transfer = {};
      file.proxy = { unified_policy: file.proxy.prefill_policy };
      break;
    }
    case "mixed": {
      // Short prompts go to a unified instance, the rest through P/D.
      file.instances.push({ ...file.instances[0]!, name: "u0", role: "unified" });
      file.proxy.pd_min_prompt_tokens = Math.ceil(maxModelLen / 4);
      break;
    }
  }
  return scenarioFrom(file);
}

/** Whether the instance's scheduler preempted the request before or after its first token. */
export interface Preemption {
  instance: string;
  requestId: string;
  beforeFirstToken: boolean;
}

export interface AccountingRun {
  cluster: Cluster;
  records: RequestRecord[];
  exporterErrors: InstanceExporterError[];
  preemptions: Preemption[];
  /**
   * What each leg's first output carried to the front end (`instance/requestId` → c, e,
   * PrefillStats): the inputs every version read. The leg record's own
   * num_external_computed_tokens is the request's last value, re-written by a later preemption.
   */
  firstOutputs: Map<string, PromptTokenInputs>;
}

/** Runs the scenario with every profile exported, the scenario's own profile selected. */
export function runAccounting(scenario: Scenario, seed = scenario.seed): AccountingRun {
  const records: RequestRecord[] = [];
  const exporterErrors: InstanceExporterError[] = [];
  const selected = scenario.metrics.profile;
  const profiles: ProfileName[] = [selected, ...PROFILE_NAMES.filter((p) => p !== selected)];
  const cluster = new Cluster(
    scenario,
    seed,
    {
      onRequestFinished: (record) => records.push(record),
      onExporterError: (error) => exporterErrors.push(error),
    },
    profiles.map((p) => PROFILES[p]),
  );
  const preemptions: Preemption[] = [];
  const firstOutputs = new Map<string, PromptTokenInputs>();
  for (const instance of cluster.instances) {
    const exposition = instance.expositions[0]!;
    const record = exposition.record.bind(exposition);
    exposition.record = (schedulerStats, iterationStats) => {
      for (const inputs of iterationStats?.firstOutputs ?? []) {
        firstOutputs.set(`${instance.name}/${inputs.requestId}`, inputs);
      }
      record(schedulerStats, iterationStats);
    };
    const scheduler = instance.engine.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    scheduler.schedule = (now) => {
      const output = schedule(now);
      for (const { request } of output.preempted) {
        preemptions.push({
          instance: instance.name,
          requestId: request.requestId,
          beforeFirstToken: request.numOutputTokens === 0,
        });
      }
      return output;
    };
  }
  cluster.run();
  return { cluster, records, exporterErrors, preemptions, firstOutputs };
}
