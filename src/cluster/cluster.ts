// The cluster as the CLI, the checks, the sweeps and the docs run it: every workload kind, a
// trace replayed from its file included. The playground runs ClusterCore with the in-memory kinds.

import type { Profile } from "../accounting/profiles.ts";
import type { Scenario } from "../scenario/types.ts";
import { workloadSource } from "../workload/workload.ts";
import { ClusterCore, type ClusterOptions } from "./cluster-core.ts";
import type { ClusterObserver } from "./observer.ts";

export type { ClusterRunResult, RunSampler } from "./cluster-core.ts";
export { SimulationStalled } from "./cluster-core.ts";

export class Cluster extends ClusterCore {
  constructor(
    scenario: Scenario,
    seed: number,
    observer?: ClusterObserver,
    profiles?: readonly Profile[],
    options: Omit<ClusterOptions, "openWorkload"> = {},
  ) {
    super(scenario, seed, observer, profiles, { ...options, openWorkload: workloadSource });
  }
}
