// The scheduler side of an async-pull connector; mirrors NixlConnectorScheduler
// (vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py) for kv_role kv_both: the
// decode side pulls the blocks it lacks, the prefill side holds its blocks until they are read.
// Leaves out heterogeneous TP, host buffers and the handshake.

import type { KvTransferParams, Request } from "../engine/request.ts";
import { finishReasonOf, isFailure } from "../engine/request-status.ts";
import {
  type FinishedTransfers,
  type KVConnector,
  type MatchedTokens,
  NOTHING_FINISHED,
  type RequestFinishedResult,
} from "../engine/kv-connector.ts";
import type { TransferFabric } from "./transfer-fabric.ts";

export class NixlConnector implements KVConnector {
  private recving = new Map<string, number | null>();
  private sending: string[] = [];

  constructor(
    readonly engineId: string,
    private readonly blockSize: number,
    private readonly fabric: TransferFabric,
    /** Wakes this instance's engine when a transfer ends, as the worker's next step would report it. */
    private readonly wake: () => void,
  ) {}

  /** The decode leg asks for every prompt token beyond the local hit, loaded asynchronously. */
  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens {
    const params = request.kvTransferParams;
    if (params?.do_remote_prefill) {
      const count = request.numPromptTokens - numComputedTokens;
      if (count > 0) return { numExternalTokens: count, loadAsync: true };
    }
    return { numExternalTokens: 0, loadAsync: false };
  }

  /**
   * Queues the pull of the blocks after the local hit, position for position from the remote
   * block ids, and clears do_remote_prefill: one transfer per request.
   */
  updateStateAfterAlloc(
    request: Request,
    blockIds: readonly number[],
    numExternalTokens: number,
  ): void {
    const params = request.kvTransferParams;
    if (!params?.do_remote_prefill) return;
    params.do_remote_prefill = false;
    const remoteEngineId = params.remote_engine_id!;
    const remoteRequestId = params.remote_request_id!;
    if (numExternalTokens === 0) {
      // Everything was local after all; the prefill side can free its blocks at once.
      this.fabric.release(remoteEngineId, remoteRequestId);
      return;
    }
    const firstToken = request.numPromptTokens - numExternalTokens;
    const firstBlock = firstToken / this.blockSize;
    if (!Number.isInteger(firstBlock)) {
      throw new Error(`NIXL pull of ${request.requestId} starts mid-block at token ${firstToken}`);
    }
    const requestId = request.requestId;
    this.fabric.read({
      requestId,
      fromEngine: remoteEngineId,
      remoteRequestId,
      toEngine: this.engineId,
      firstToken,
      numTokens: numExternalTokens,
      numBlocks: Math.ceil(request.numPromptTokens / this.blockSize) - firstBlock,
      blockSize: this.blockSize,
      onDone: (firstInvalidToken) => {
        this.recving.set(requestId, firstInvalidToken);
        this.wake();
      },
    });
  }

  /** The prefill leg keeps its blocks for the decode side and tells the proxy where they are. */
  requestFinished(request: Request, blockIds: readonly number[]): RequestFinishedResult {
    const params = request.kvTransferParams;
    if (!params?.do_remote_decode || isFailure(finishReasonOf(request.status)))
      return { delayFreeBlocks: false, kvTransferParams: null };
    const requestId = request.requestId;
    this.fabric.hold(this.engineId, requestId, () => {
      this.sending.push(requestId);
      this.wake();
    });
    const returned: KvTransferParams = {
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: [...blockIds],
      remote_engine_id: this.engineId,
      remote_request_id: requestId,
      remote_host: "127.0.0.1",
      remote_port: this.fabric.sidePort(this.engineId),
      tp_size: 1,
    };
    return { delayFreeBlocks: true, kvTransferParams: returned };
  }

  takeFinished(): FinishedTransfers {
    if (this.recving.size === 0 && this.sending.length === 0) return NOTHING_FINISHED;
    const finished = { recving: this.recving, sending: this.sending };
    this.recving = new Map();
    this.sending = [];
    return finished;
  }
}
