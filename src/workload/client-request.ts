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

/** What the client saw of a request once its response ended. */
export interface FinishedRequest {
  request: ClientRequest;
  /** Output tokens it received: 0 for a refused or failed request. */
  outputTokens: number;
  /** When the response ended. */
  time: SimTime;
}

export interface WorkloadSource {
  /** How many requests it sends in all (a session cut short by an error sends fewer). */
  readonly totalRequests: number;
  /** The next request in arrival order among those known in advance, or null when there are no more. */
  next(): ClientRequest | null;
  /** The request a finished one leads to, sent at its arrival time: a session's next turn. */
  followUp?(finished: FinishedRequest): ClientRequest | null;
}
