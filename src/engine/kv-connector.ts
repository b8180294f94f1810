// The scheduler-side contract of a KV connector; mirrors KVConnectorBase_V1's scheduler methods
// (vllm/distributed/kv_transfer/kv_connector/v1/base.py). It sits with the scheduler, which
// calls it; the connectors in src/kv-transfer/ implement it. The kv_transfer_params the toy
// proxy passes between the prefill and the decode leg are part of the Request (request.ts).

import type { KvTransferParams, Request } from "./request.ts";
import type { SchedulerOutput } from "./scheduler-output.ts";

export interface MatchedTokens {
  /** Tokens beyond the local hit that the connector can supply. */
  numExternalTokens: number;
  /** True: the KV arrives later (WAITING_FOR_REMOTE_KVS); false: it is loaded during the step. */
  loadAsync: boolean;
  /** Where a tier connector found the tokens, for `pdsim explain`; absent for P/D connectors. */
  via?: string;
}

/** What the connector's workers finished since the scheduler last asked. */
export interface FinishedTransfers {
  /** Requests whose async load ended, with the first token whose KV is invalid (null: all valid). */
  readonly recving: ReadonlyMap<string, number | null>;
  /** Requests whose held blocks the remote side no longer needs (read done, or lease expired). */
  readonly sending: readonly string[];
}

/** What `takeFinished` returns on the many steps in which no transfer ended. */
export const NOTHING_FINISHED: FinishedTransfers = { recving: new Map(), sending: [] };

export interface RequestFinishedResult {
  /** Keep the blocks after the request finishes, until the remote side has read them. */
  delayFreeBlocks: boolean;
  kvTransferParams: KvTransferParams | null;
}

export interface KVConnector {
  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens;
  /**
   * Called once the request's blocks (local hit + external + new) are allocated; vLLM passes the
   * blocks, of which the connectors only read the ids.
   */
  updateStateAfterAlloc(
    request: Request,
    blockIds: readonly number[],
    numExternalTokens: number,
  ): void;
  requestFinished(request: Request, blockIds: readonly number[]): RequestFinishedResult;
  takeFinished(): FinishedTransfers;
  /**
   * For synchronous loads: calls `then` once the KV of these requests (loaded during the step
   * that just ran) is all there; a step cannot end before its loads do.
   */
  waitForLoads?(requestIds: readonly string[], then: () => void): void;
  /**
   * vLLM's build_connector_meta, at the end of every schedule(): a connector that saves KV
   * plans this step's saves from what was scheduled and preempted.
   */
  buildConnectorMeta?(output: SchedulerOutput): void;
  /**
   * vLLM's wait_for_save, once the step's forward pass (and its synchronous loads) ended: calls
   * `then` when the step may end; a connector that saves synchronously holds the step until its
   * saves are done, one that saves asynchronously starts them and lets the step end.
   */
  waitForSave?(output: SchedulerOutput, then: () => void): void;
}
