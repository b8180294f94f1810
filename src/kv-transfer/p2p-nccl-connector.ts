// The scheduler side of a synchronous push connector; mirrors P2pNcclConnector
// (vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py): the producer pushes
// a finished prefill's KV to the decode instance the proxy named, and the consumer counts
// N − 1 − L tokens as computed at once, loading them during the step that computes the last
// one. Leaves out the NCCL buffers' memory limits and load failures.

import type { Request } from "../engine/request.ts";
import { finishReasonOf, isFailure } from "../engine/request-status.ts";
import {
  type FinishedTransfers,
  type KVConnector,
  type MatchedTokens,
  NOTHING_FINISHED,
  type RequestFinishedResult,
} from "../engine/kv-connector.ts";
import { Countdown } from "../util/countdown.ts";
import type { TransferFabric } from "./transfer-fabric.ts";

export type P2pRole = "kv_producer" | "kv_consumer";

export class P2pNcclConnector implements KVConnector {
  constructor(
    readonly engineId: string,
    readonly role: P2pRole,
    private readonly fabric: TransferFabric,
  ) {}

  /** The consumer already has everything but the last token (the connector leaves it out). */
  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens {
    if (this.role !== "kv_consumer") return { numExternalTokens: 0, loadAsync: false };
    // A re-admission after the pushed KV was loaded and dropped finds nothing to load.
    if (!this.fabric.hasPush(this.engineId, request.requestId)) {
      return { numExternalTokens: 0, loadAsync: false };
    }
    const count = request.numPromptTokens - 1 - numComputedTokens;
    return { numExternalTokens: Math.max(0, count), loadAsync: false };
  }

  updateStateAfterAlloc(
    _request: Request,
    _blockIds: readonly number[],
    _numExternalTokens: number,
  ): void {}

  /** The producer pushes the whole prompt's KV and frees its blocks at once: nothing is held. */
  requestFinished(request: Request, _blockIds: readonly number[]): RequestFinishedResult {
    if (this.role === "kv_consumer") this.fabric.dropPush(this.engineId, request.requestId);
    const target = request.kvTransferParams?.remote_engine_id;
    const failed = isFailure(finishReasonOf(request.status));
    if (this.role === "kv_producer" && target && !failed) {
      this.fabric.push({
        requestId: request.requestId,
        fromEngine: this.engineId,
        toEngine: target,
        numTokens: request.numPromptTokens,
      });
    }
    return { delayFreeBlocks: false, kvTransferParams: null };
  }

  takeFinished(): FinishedTransfers {
    return NOTHING_FINISHED;
  }

  waitForLoads(requestIds: readonly string[], then: () => void): void {
    const loads = new Countdown(then);
    for (const id of requestIds) this.fabric.loadPush(this.engineId, id, loads.expect());
    loads.seal();
  }
}
