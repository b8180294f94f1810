// vLLM's MultiConnector (vllm/distributed/kv_transfer/kv_connector/v1/multi_connector.py):
// several connectors behind one, "load from the first connector that advertises available
// tokens, save to all". Every child is asked, in order, with the same local hit; the first
// positive answer wins and that child alone loads the request's KV (the others are told 0
// tokens and no blocks); every child sees each step, so each saves what it saves; a request's
// blocks are held while any child holds them.

import type { KvTransferParams, Request } from "../engine/request.ts";
import type {
  FinishedTransfers,
  KVConnector,
  MatchedTokens,
  RequestFinishedResult,
} from "../engine/kv-connector.ts";
import type { SchedulerOutput } from "../engine/scheduler-output.ts";
import { Countdown } from "../util/countdown.ts";

const NO_BLOCKS: readonly number[] = [];

export class MultiConnector implements KVConnector {
  /** The child that loads each request's KV, by index (vLLM's _requests_to_connector). */
  private readonly loader = new Map<string, number>();
  /** Requests more than one child holds: how many more "finished sending" reports to wait for. */
  private readonly extraHolds = new Map<string, number>();

  constructor(readonly children: readonly KVConnector[]) {
    if (children.length === 0) throw new Error("MultiConnector: no connectors");
  }

  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens {
    let answer: MatchedTokens = { numExternalTokens: 0, loadAsync: false };
    this.children.forEach((child, i) => {
      const matched = child.getNumNewMatchedTokens(request, numComputedTokens);
      if (answer.numExternalTokens === 0 && matched.numExternalTokens > 0) {
        this.loader.set(request.requestId, i);
        answer = matched;
      }
    });
    return answer;
  }

  updateStateAfterAlloc(
    request: Request,
    blockIds: readonly number[],
    numExternalTokens: number,
  ): void {
    const chosen = this.loader.get(request.requestId) ?? -1;
    this.children.forEach((child, i) => {
      if (i === chosen) child.updateStateAfterAlloc(request, blockIds, numExternalTokens);
      else child.updateStateAfterAlloc(request, NO_BLOCKS, 0);
    });
  }

  requestFinished(request: Request, blockIds: readonly number[]): RequestFinishedResult {
    const id = request.requestId;
    let holds = 0;
    let kvTransferParams: KvTransferParams | null = null;
    for (const child of this.children) {
      const result = child.requestFinished(request, blockIds);
      if (result.delayFreeBlocks) holds += 1;
      if (result.kvTransferParams === null) continue;
      // vLLM's MultiConnector of this era has the same limit.
      if (kvTransferParams !== null) {
        throw new Error("Only one connector can produce KV transfer params");
      }
      kvTransferParams = result.kvTransferParams;
    }
    this.loader.delete(id);
    if (holds > 1) this.extraHolds.set(id, holds - 1);
    return { delayFreeBlocks: holds > 0, kvTransferParams };
  }

  takeFinished(): FinishedTransfers {
    const recving = new Map<string, number | null>();
    const sending: string[] = [];
    for (const child of this.children) {
      const finished = child.takeFinished();
      for (const [id, firstInvalid] of finished.recving) recving.set(id, firstInvalid);
      for (const id of finished.sending) {
        const extra = this.extraHolds.get(id) ?? 0;
        if (extra === 0) sending.push(id);
        else if (extra === 1) this.extraHolds.delete(id);
        else this.extraHolds.set(id, extra - 1);
      }
    }
    return { recving, sending };
  }

  /** The step's synchronous loads, each by the child that offered it. */
  waitForLoads(requestIds: readonly string[], then: () => void): void {
    const byChild = new Map<number, string[]>();
    for (const id of requestIds) {
      const i = this.loader.get(id);
      if (i === undefined) continue;
      const ids = byChild.get(i) ?? [];
      ids.push(id);
      byChild.set(i, ids);
    }
    const loads = new Countdown(then);
    for (const [i, ids] of byChild) {
      const child = this.children[i]!;
      if (child.waitForLoads !== undefined) child.waitForLoads(ids, loads.expect());
    }
    loads.seal();
  }

  buildConnectorMeta(output: SchedulerOutput): void {
    for (const child of this.children) child.buildConnectorMeta?.(output);
  }

  /** Every child saves; the step ends when the last of them lets it. */
  waitForSave(output: SchedulerOutput, then: () => void): void {
    const saves = new Countdown(then);
    for (const child of this.children) {
      if (child.waitForSave !== undefined) child.waitForSave(output, saves.expect());
    }
    saves.seal();
  }
}
