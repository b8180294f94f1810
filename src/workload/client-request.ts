// What a workload sends: client requests in arrival order, one at a time.

import type { SimTime } from "../../sim/index.ts";
import type { Prompt } from "../engine/prompt.ts";

export interface ClientRequest {
  id: string;
  arrivalTime: SimTime;
  prompt: Prompt;
  maxTokens: number;
  /** The natural output length; absent means the request runs to max_tokens. */
  stopAfterTokens?: number;
  /** The shared-prefix group it was drawn from, for explanations. */
  prefixGroup?: string;
}

export interface WorkloadSource {
  readonly totalRequests: number;
  /** The next request in arrival order, or null when the workload is exhausted. */
  next(): ClientRequest | null;
}
