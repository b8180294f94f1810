// The scheduler side of LMCacheConnectorV1 with LMCache's defaults; mirrors vLLM's wrapper
// (vllm/distributed/kv_transfer/kv_connector/v1/lmcache_connector.py) around LMCache's
// LMCacheConnectorV1Impl (lmcache/integration/vllm/vllm_v1_adapter.py). What it does, per
// docs/vllm-reference.md ("LMCacheConnectorV1"):
//
// - looks up the prompt's whole chunks (256 tokens by default) from its start, keyed by the
//   tokens themselves, so any instance that shares the tier can hit them; answers the hit minus
//   the local hit, one token less when the hit covers the whole request, never below 0 and not
//   rounded to vLLM's block size;
// - loads synchronously, during the step that schedules the request (vLLM's wrapper always
//   answers load_async = False);
// - saves, at the end of each step (wait_for_save, which holds the step), the prompt chunks the
//   step completed; no partial chunk (save_unfull_chunk = False) and no decode tokens
//   (save_decode_cache = False): once a step gives a request exactly one token, LMCache takes it
//   as decoding for good and saves nothing more of it.
//
// Leaves out: LMCache's asynchronous lookup (an answer of None), min_retrieve_tokens, its
// producer/consumer roles, layer-wise saving and load failures (record_failed_blocks).

import type { Request } from "../engine/request.ts";
import {
  type FinishedTransfers,
  type KVConnector,
  type MatchedTokens,
  NOTHING_FINISHED,
  type RequestFinishedResult,
} from "../engine/kv-connector.ts";
import type { SchedulerOutput } from "../engine/scheduler-output.ts";
import { Countdown } from "../util/countdown.ts";
import type { ChunkKey, KvCacheTier } from "./kv-cache-tier.ts";

interface LmCacheState {
  /** Whole prompt chunks the tier holds or is being given for this request. */
  savedChunks: number;
  /** The local hit the last lookup started from: where a load after it begins. */
  lookedUpFrom: number;
  /**
   * Scheduled once with exactly one new token: LMCache's tracker takes the request for decoding
   * from then on (the flag never clears) and, with save_decode_cache off, saves nothing more.
   */
  decodePhase: boolean;
  /** The chunks and tokens a load during the coming step brings in. */
  load: { keys: readonly ChunkKey[]; tokens: number } | null;
}

export class LmCacheConnector implements KVConnector {
  private readonly states = new Map<string, LmCacheState>();

  constructor(private readonly tier: KvCacheTier) {}

  getNumNewMatchedTokens(request: Request, numComputedTokens: number): MatchedTokens {
    const keys = this.chunkKeys(request);
    this.tier.touch(keys);
    const hitChunks = this.tier.lookup(keys, 0);
    const state = this.stateOf(request.requestId);
    // What the tier holds is not saved again (LMCache's num_saved_tokens starts at its hit).
    state.savedChunks = hitChunks;
    state.lookedUpFrom = numComputedTokens;
    let numHitTokens = hitChunks * this.tier.chunkTokens;
    // A full hit leaves the last token to compute, for its logits.
    if (numHitTokens === request.numTokens) numHitTokens -= 1;
    const needToLoad = numHitTokens - numComputedTokens;
    if (needToLoad <= 0) return { numExternalTokens: 0, loadAsync: false };
    const full = numHitTokens < hitChunks * this.tier.chunkTokens ? ", less the last token" : "";
    return {
      numExternalTokens: needToLoad,
      loadAsync: false,
      via: `lmcache finds ${hitChunks} chunks of ${this.tier.chunkTokens} tokens in tier ${this.tier.name} (${numHitTokens} tokens${full})`,
    };
  }

  /** Remembers what to load during the step that schedules the request. */
  updateStateAfterAlloc(
    request: Request,
    _blockIds: readonly number[],
    numExternalTokens: number,
  ): void {
    const state = this.stateOf(request.requestId);
    if (numExternalTokens === 0) {
      state.load = null;
      return;
    }
    const chunk = this.tier.chunkTokens;
    const first = Math.floor(state.lookedUpFrom / chunk);
    const end = Math.ceil((state.lookedUpFrom + numExternalTokens) / chunk);
    const keys = this.chunkKeys(request).slice(first, end);
    this.tier.startLoad(keys);
    state.load = { keys, tokens: numExternalTokens };
  }

  /** The step's loads, each from the tier over its load path; the step ends when all are in. */
  waitForLoads(requestIds: readonly string[], then: () => void): void {
    const tier = this.tier;
    const loads = new Countdown(then);
    for (const id of requestIds) {
      const state = this.states.get(id);
      const load = state?.load ?? null;
      if (load === null) continue;
      state!.load = null;
      const done = loads.expect();
      tier.loadLink.start(tier.bytesOf(load.tokens), () => {
        tier.endLoad(load.keys, load.tokens);
        done();
      });
    }
    loads.seal();
  }

  /** Saves the prompt chunks this step completed; the step ends when they are in the tier. */
  waitForSave(output: SchedulerOutput, then: () => void): void {
    const tier = this.tier;
    const chunk = tier.chunkTokens;
    const saves = new Countdown(then);
    for (const s of output.scheduled) {
      const request = s.request;
      const state = this.stateOf(request.requestId);
      if (s.numNewTokens === 1) state.decodePhase = true;
      if (state.decodePhase) continue;
      const promptTokensAfter = Math.min(
        s.numComputedBefore + s.numNewTokens,
        request.numPromptTokens,
      );
      const numChunks = Math.floor(promptTokensAfter / chunk);
      if (numChunks <= state.savedChunks) continue;
      const keys = this.chunkKeys(request).slice(state.savedChunks, numChunks);
      const fresh = tier.prepareStore(keys);
      if (fresh === null) continue;
      state.savedChunks = numChunks;
      if (fresh.length === 0) continue;
      const done = saves.expect();
      tier.storeLink.start(tier.bytesOf(fresh.length * chunk), () => {
        tier.completeStore(fresh);
        done();
      });
    }
    saves.seal();
  }

  requestFinished(request: Request, _blockIds: readonly number[]): RequestFinishedResult {
    this.states.delete(request.requestId);
    return { delayFreeBlocks: false, kvTransferParams: null };
  }

  takeFinished(): FinishedTransfers {
    return NOTHING_FINISHED;
  }

  private stateOf(requestId: string): LmCacheState {
    let state = this.states.get(requestId);
    if (state === undefined) {
      state = { savedChunks: 0, lookedUpFrom: 0, decodePhase: false, load: null };
      this.states.set(requestId, state);
    }
    return state;
  }

  /** The prompt's whole chunks, keyed by their tokens: the same on every instance. */
  private chunkKeys(request: Request): readonly ChunkKey[] {
    return request.prompt.blockHashes(this.tier.chunkTokens);
  }
}
