// The scheduler side of vLLM's OffloadingConnector to a CPU tier; mirrors
// vllm/distributed/kv_transfer/kv_connector/v1/offloading/scheduler.py as of vLLM's job-based
// store tracking (a stored chunk is loadable once its copy ends, whether or not the request has
// finished). What it does, per docs/vllm-reference.md ("The OffloadingConnector"):
//
// - looks up whole offloaded blocks (chunks of block_size × factor tokens) past the local hit,
//   and answers 0 when less than one chunk can be loaded; a hit is loaded asynchronously
//   (the request waits in WAITING_FOR_REMOTE_KVS), and the scheduler's promotion leaves the last
//   token to compute on a full hit;
// - every step, saves the whole chunks that step's scheduled tokens complete, prompt and output
//   alike, skipping chunks the tier holds; the copy starts when the step ends and the chunk is
//   loadable when it is done;
// - on preemption, the preempted request's copies in flight are finished at once (vLLM's worker
//   waits for them before the GPU blocks are reused), so a re-admission may find them.
//
// Leaves out: a lookup deferred while another request loads the same chunks (vLLM answers None
// then), the ARC policy, sliding-window and Mamba groups, and load failures (vLLM's worker asserts
// that every transfer succeeds).

import type { Request } from "../engine/request.ts";
import {
  type FinishedTransfers,
  type KVConnector,
  type MatchedTokens,
  NOTHING_FINISHED,
  type RequestFinishedResult,
} from "../engine/kv-connector.ts";
import type { SchedulerOutput } from "../engine/scheduler-output.ts";
import type { ChunkKey, KvCacheTier } from "./kv-cache-tier.ts";
import type { TransferTiming } from "../kv-transfer/link.ts";

/** A finished copy, as vLLM's worker records it for its offload metrics. */
export type OffloadTransferListener = (
  transferType: "GPU_to_CPU" | "CPU_to_GPU",
  timing: TransferTiming,
) => void;

/** One step's save of one request's chunks. */
interface Save {
  readonly keys: readonly ChunkKey[];
  /** The saves in flight of the request it belongs to, which it leaves when done. */
  readonly of: Set<Save>;
  done: boolean;
}

interface OffloadState {
  /** Chunks below this index are stored, being stored, or were loaded: not saved again. */
  nextStoredChunk: number;
  /** The local hit the last lookup started from: where a load after it begins. */
  lookedUpFrom: number;
  /** Saves this request has in flight, for the flush at its preemption. */
  readonly storing: Set<Save>;
}

export class OffloadingConnector implements KVConnector {
  private readonly states = new Map<string, OffloadState>();
  private recving = new Map<string, number | null>();
  /** Saves planned by this step's buildConnectorMeta, copied once the step ends. */
  private planned: Save[] = [];
  private readonly blocksPerChunk: number;

  constructor(
    private readonly tier: KvCacheTier,
    blockSize: number,
    /** Wakes this instance's engine when a load ends. */
    private readonly wake: () => void,
    private readonly onTransfer: OffloadTransferListener = () => {},
  ) {
    if (tier.chunkTokens % blockSize !== 0) {
      // The loader refuses this with the scenario's line; here it is a programming error.
      throw new Error(`offloaded block ${tier.chunkTokens} is not a multiple of ${blockSize}`);
    }
    this.blocksPerChunk = tier.chunkTokens / blockSize;
  }

  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens {
    const chunk = this.tier.chunkTokens;
    const keys = this.chunkKeys(request, this.numFullChunks(request));
    this.tier.touch(keys);
    this.stateOf(request.requestId).lookedUpFrom = numComputedTokens;
    if (keys.length * chunk - numComputedTokens < chunk) return NO_MATCH;
    const start = Math.floor(numComputedTokens / chunk);
    const hits = this.tier.lookup(keys, start);
    const numHitTokens = (start + hits) * chunk - numComputedTokens;
    if (numHitTokens < chunk) return NO_MATCH;
    return {
      numExternalTokens: numHitTokens,
      loadAsync: true,
      via: `offloading finds chunks ${start}..${start + hits - 1} of ${chunk} tokens in tier ${this.tier.name} (up to token ${(start + hits) * chunk})`,
    };
  }

  /** Loads the hit chunks; they are not saved again. */
  updateStateAfterAlloc(
    request: Request,
    _blockIds: readonly number[],
    numExternalTokens: number,
  ): void {
    if (numExternalTokens === 0) return;
    const chunk = this.tier.chunkTokens;
    const state = this.stateOf(request.requestId);
    const end = state.lookedUpFrom + numExternalTokens;
    const firstChunk = Math.floor(state.lookedUpFrom / chunk);
    const lastChunk = end / chunk;
    const keys = this.chunkKeys(request, lastChunk).slice(firstChunk);
    state.nextStoredChunk = Math.max(state.nextStoredChunk, lastChunk);
    const tier = this.tier;
    tier.startLoad(keys);
    const requestId = request.requestId;
    tier.loadLink.start(tier.bytesOf(numExternalTokens), (timing) => {
      this.onTransfer("CPU_to_GPU", timing);
      tier.endLoad(keys, numExternalTokens);
      this.recving.set(requestId, null);
      this.wake();
    });
  }

  /** Plans the saves of the chunks this step completes, and flushes what preempted requests save. */
  buildConnectorMeta(output: SchedulerOutput): void {
    for (const { request } of output.preempted) {
      const state = this.states.get(request.requestId);
      if (state === undefined) continue;
      for (const save of [...state.storing]) this.finishSave(save);
    }
    const chunk = this.tier.chunkTokens;
    for (const s of output.scheduled) {
      const request = s.request;
      const tokensAfter = Math.min(s.numComputedBefore + s.numNewTokens, request.numTokens);
      const numChunks = Math.min(Math.floor(tokensAfter / chunk), this.numFullChunks(request));
      const state = this.stateOf(request.requestId);
      if (numChunks <= state.nextStoredChunk) continue;
      const keys = this.chunkKeys(request, numChunks);
      const fresh = this.tier.prepareStore(keys.slice(state.nextStoredChunk));
      // No room: vLLM skips this step's save and tries again at the next one.
      if (fresh === null) continue;
      state.nextStoredChunk = numChunks;
      // vLLM touches all of the request's keys once it plans a save.
      this.tier.touch(keys);
      if (fresh.length === 0) continue;
      const save: Save = { keys: fresh, of: state.storing, done: false };
      state.storing.add(save);
      this.planned.push(save);
    }
  }

  /** Starts the copies planned for this step (vLLM defers them to the next step's start). */
  waitForSave(_output: SchedulerOutput, then: () => void): void {
    const tier = this.tier;
    for (const save of this.planned) {
      tier.storeLink.start(tier.bytesOf(save.keys.length * tier.chunkTokens), (timing) => {
        this.onTransfer("GPU_to_CPU", timing);
        this.finishSave(save);
      });
    }
    this.planned = [];
    then();
  }

  /** Never holds the request's blocks: its saves in flight end on their own. */
  requestFinished(request: Request, _blockIds: readonly number[]): RequestFinishedResult {
    this.states.delete(request.requestId);
    return { delayFreeBlocks: false, kvTransferParams: null };
  }

  takeFinished(): FinishedTransfers {
    if (this.recving.size === 0) return NOTHING_FINISHED;
    const finished = { recving: this.recving, sending: [] };
    this.recving = new Map();
    return finished;
  }

  /** A save's copy ended, or its request's preemption flushed it: its chunks become loadable. */
  private finishSave(save: Save): void {
    if (save.done) return;
    save.done = true;
    save.of.delete(save);
    this.tier.completeStore(save.keys);
  }

  private stateOf(requestId: string): OffloadState {
    let state = this.states.get(requestId);
    if (state === undefined) {
      state = { nextStoredChunk: 0, lookedUpFrom: 0, storing: new Set() };
      this.states.set(requestId, state);
    }
    return state;
  }

  /** Whole chunks of the request's full blocks: the offload keys vLLM can build. */
  private numFullChunks(request: Request): number {
    return Math.floor(request.numBlockHashes / this.blocksPerChunk);
  }

  /** The keys of chunks 0 … count − 1: each chunk's last block hash (the prefix it ends). */
  private chunkKeys(request: Request, count: number): ChunkKey[] {
    const keys: ChunkKey[] = [];
    for (let i = 0; i < count; i++) keys.push(request.blockHash((i + 1) * this.blocksPerChunk - 1));
    return keys;
  }
}

const NO_MATCH: MatchedTokens = { numExternalTokens: 0, loadAsync: false };
