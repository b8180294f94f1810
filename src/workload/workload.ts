// A scenario's workload, whatever its kind: the in-memory kinds, and a trace replayed from its
// file (which needs Node's file system, so a browser opens workloads with in-memory-workload.ts).

import { inMemoryWorkloadSource, type WorkloadOpener } from "./in-memory-workload.ts";
import { traceReplay } from "./trace/trace-replay.ts";

export type { ClientRequest, FinishedRequest, WorkloadSource } from "./client-request.ts";
export type { ReplayLimits, WorkloadOpener } from "./in-memory-workload.ts";

export const workloadSource: WorkloadOpener = (workload, rng, limits) =>
  workload.kind === "trace" ? traceReplay(workload, limits) : inMemoryWorkloadSource(workload, rng);
