// One request inside one engine instance; mirrors vllm/v1/request.py (Request) for text-only
// requests: no multimodal inputs, LoRA, structured output or speculative tokens.

import type { SimTime } from "../../sim/index.ts";
import { type AppendOnly, append, nothing } from "../util/lists.ts";
import { type BlockHash, NONE_HASH, hashBlockTokens } from "./block-hash.ts";
import type { Prompt } from "./prompt.ts";
import type { RequestBlocks } from "./request-blocks.ts";
import type { RequestStatus } from "./request-status.ts";
import type { PrefillStats } from "./stats.ts";

/** `kv_transfer_params` of a request, as the proxy and the instances pass them around. */
export interface KvTransferParams {
  do_remote_decode: boolean;
  do_remote_prefill: boolean;
  remote_engine_id: string | null;
  remote_block_ids: number[] | null;
  remote_request_id: string | null;
  remote_host: string | null;
  remote_port: number | null;
  tp_size?: number;
}

export type EngineCoreEventType = "QUEUED" | "SCHEDULED" | "PREEMPTED";

export interface EngineCoreEvent {
  type: EngineCoreEventType;
  timestamp: SimTime;
}

export interface RequestInit {
  requestId: string;
  prompt: Prompt;
  maxTokens: number;
  /** The length at which the model would emit EOS; finishes with `stop` when reached before max_tokens. */
  stopAfterTokens?: number;
  /** Deterministic ids for generated tokens, so output blocks hash (and cache) like prompt blocks. */
  outputTokenId: (index: number) => number;
  arrivalTime: SimTime;
  blockSize: number;
  kvTransferParams?: KvTransferParams | null;
}

export class Request {
  readonly requestId: string;
  readonly numPromptTokens: number;
  readonly maxTokens: number;
  readonly stopAfterTokens: number;
  readonly arrivalTime: SimTime;
  readonly prompt: Prompt;
  /** The hashes of the prompt's full blocks, shared with the prompt and the other legs. */
  private readonly promptHashes: readonly BlockHash[];
  /**
   * The hashes of the blocks that output tokens completed, which follow the prompt's. Kept
   * apart rather than appended to a copy of the prompt's: that copy would be an array per decode
   * leg, kept for its life (docs/performance.md, change 21).
   */
  private outputHashes: AppendOnly<BlockHash> = nothing();
  status: RequestStatus = "WAITING";
  numComputedTokens = 0;
  /** Written once, when the request first becomes RUNNING; −1 until then (vLLM's sentinel). */
  numCachedTokens = -1;
  /** Re-written on every pass through the waiting branch with nothing computed. */
  numExternalComputedTokens = 0;
  numPreemptions = 0;
  /** What the proxy asked of the connector for this request; the connector updates it. */
  kvTransferParams: KvTransferParams | null;
  /** Re-recorded on each waiting pass until the first output takes it. */
  prefillStats: PrefillStats | null = null;
  prefillStatsTaken = false;
  /**
   * This request's entry in its KV cache manager's req_to_blocks, kept on the request too: a
   * decode step reaches it without a lookup by id (most steps do nothing else with it).
   */
  kvBlocks: RequestBlocks | null = null;
  private events: EngineCoreEvent[] = [];
  private readonly outputTokenId: (index: number) => number;
  readonly blockSize: number;
  private numOutput = 0;
  /**
   * The tokens of the block being filled, its first `partialLength` entries: the prompt's last
   * partial block, then output tokens, started over each time it fills and is hashed. Nothing
   * else of the sequence is kept: the prompt is shared, and output ids are a function of their
   * index.
   */
  private readonly partialBlock: number[];
  private partialLength = 0;

  constructor(init: RequestInit) {
    this.requestId = init.requestId;
    this.prompt = init.prompt;
    this.numPromptTokens = init.prompt.length;
    this.maxTokens = init.maxTokens;
    this.stopAfterTokens = init.stopAfterTokens ?? Number.POSITIVE_INFINITY;
    this.arrivalTime = init.arrivalTime;
    this.outputTokenId = init.outputTokenId;
    this.blockSize = init.blockSize;
    this.kvTransferParams = init.kvTransferParams ?? null;
    this.promptHashes = init.prompt.blockHashes(this.blockSize);
    this.partialBlock = new Array<number>(this.blockSize).fill(0);
    for (let i = this.promptHashes.length * this.blockSize; i < this.numPromptTokens; i++) {
      this.partialBlock[this.partialLength++] = init.prompt.tokenId(i);
    }
  }

  /** How many full blocks the sequence has: the length of vLLM's request.block_hashes. */
  get numBlockHashes(): number {
    return this.promptHashes.length + this.outputHashes.length;
  }

  /** The hash of full block `i` (vLLM's request.block_hashes[i]). */
  blockHash(i: number): BlockHash {
    const numPromptBlocks = this.promptHashes.length;
    return i < numPromptBlocks ? this.promptHashes[i]! : this.outputHashes[i - numPromptBlocks]!;
  }

  /** The prompt's full-block hashes: the first of the sequence's. */
  get promptBlockHashes(): readonly BlockHash[] {
    return this.promptHashes;
  }

  /** The hashes of the blocks output tokens filled, after the prompt's. */
  get outputBlockHashes(): readonly BlockHash[] {
    return this.outputHashes;
  }

  /** Every full block's hash, in order (a copy once output tokens have filled a block). */
  get blockHashes(): readonly BlockHash[] {
    if (this.outputHashes.length === 0) return this.promptHashes;
    return [...this.promptHashes, ...this.outputHashes];
  }

  get numTokens(): number {
    return this.numPromptTokens + this.numOutput;
  }

  get numOutputTokens(): number {
    return this.numOutput;
  }

  /** Every token id so far, prompt then output: a copy, for tests and explanations. */
  tokenIds(): number[] {
    const all = Array.from(this.prompt.tokenIds());
    for (let i = 0; i < this.numOutput; i++) all.push(this.outputTokenId(i));
    return all;
  }

  /** Appends the next generated token (its id is synthetic) and hashes the block it fills, if any. */
  appendOutputToken(): number {
    const tokenId = this.outputTokenId(this.numOutput);
    this.numOutput += 1;
    this.partialBlock[this.partialLength++] = tokenId;
    if (this.partialLength === this.blockSize) {
      const parent = this.outputHashes.at(-1) ?? this.promptHashes.at(-1) ?? NONE_HASH;
      this.outputHashes = append(
        this.outputHashes,
        hashBlockTokens(parent, this.partialBlock, 0, this.blockSize),
      );
      this.partialLength = 0;
    }
    return tokenId;
  }

  recordEvent(type: EngineCoreEventType, timestamp: SimTime): void {
    this.events.push({ type, timestamp });
  }

  /** Events are delivered with the request's next output and then forgotten. */
  takeEvents(): EngineCoreEvent[] | null {
    if (this.events.length === 0) return null;
    const events = this.events;
    this.events = [];
    return events;
  }

  takePrefillStats(): PrefillStats | null {
    if (this.prefillStatsTaken) return null;
    this.prefillStatsTaken = true;
    const stats = this.prefillStats;
    this.prefillStats = null;
    return stats;
  }
}
