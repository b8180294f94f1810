// Builders and invariant checks shared by the engine tests: synthetic prompts, requests, a
// scheduler without the kernel, and block-conservation checks that print every term.

import { KVCacheManager } from "../../src/engine/kv-cache-manager.ts";
import { Prompt } from "../../src/engine/prompt.ts";
import { Request } from "../../src/engine/request.ts";
import { Scheduler, type SchedulerConfig } from "../../src/engine/scheduler.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../../src/engine/scheduler-output.ts";

/** Tokens `[from, to)` of a named stream; streams never share ids, so only shared streams hit. */
export function streamTokens(stream: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(stream * 100_000 + i);
  return out;
}

/** A prompt of `length` tokens whose first `shared` come from `prefixStream`, the rest from `ownStream`. */
export function prompt(
  length: number,
  ownStream: number,
  prefix?: { stream: number; tokens: number },
): number[] {
  const shared = Math.min(length, prefix?.tokens ?? 0);
  return [
    ...(prefix === undefined ? [] : streamTokens(prefix.stream, 0, shared)),
    ...streamTokens(ownStream, shared, length),
  ];
}

/** Output token ids of one request, a function of its id: negative, so never a prompt token. */
export function outputIds(requestId: string): (index: number) => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) h = Math.imul(h ^ requestId.charCodeAt(i), 0x01000193);
  const base = (h >>> 0) % 10_000;
  return (index) => -(base * 100_000 + index + 1);
}

export interface RequestSpec {
  id: string;
  promptTokenIds: readonly number[];
  maxTokens?: number;
  stopAfterTokens?: number;
  arrivalTime?: number;
  blockSize: number;
}

export function makeRequest(spec: RequestSpec): Request {
  return new Request({
    requestId: spec.id,
    prompt: Prompt.of(spec.promptTokenIds),
    maxTokens: spec.maxTokens ?? 4,
    ...(spec.stopAfterTokens === undefined ? {} : { stopAfterTokens: spec.stopAfterTokens }),
    outputTokenId: outputIds(spec.id),
    arrivalTime: spec.arrivalTime ?? 0,
    blockSize: spec.blockSize,
  });
}

export interface EngineParams extends SchedulerConfig {
  blockSize: number;
  numGpuBlocks: number;
  enablePrefixCaching: boolean;
}

/** Scheduler defaults small enough to reason about by hand; override what a test is about. */
export function engineParams(overrides: Partial<EngineParams> = {}): EngineParams {
  return {
    blockSize: 16,
    numGpuBlocks: 64,
    enablePrefixCaching: true,
    maxNumBatchedTokens: 2048,
    maxNumSeqs: 128,
    maxModelLen: 1024,
    enableChunkedPrefill: true,
    longPrefillTokenThreshold: 0,
    reserveFullIsl: true,
    kvLoadFailurePolicy: "fail",
    ...overrides,
  };
}

export function makeScheduler(params: EngineParams): Scheduler {
  const kv = new KVCacheManager(
    params.numGpuBlocks,
    params.blockSize,
    params.maxModelLen,
    params.enablePrefixCaching,
  );
  return new Scheduler(params, kv);
}

/**
 * The block-pool bookkeeping invariants, each message printing every term:
 * blocks with refCnt > 0, plus the free queue, plus the null block, equal num_gpu_blocks; the
 * free queue holds exactly the unreferenced non-null blocks; each block's refCnt equals the
 * number of `requests` holding it, and the manager's own list of holders agrees;
 * usage is 1 − free / (num_gpu_blocks − 1).
 */
export function checkBlockConservation(kv: KVCacheManager, requests: Iterable<Request>): void {
  const pool = kv.blockPool;
  const holders = new Map<number, number>();
  for (const request of requests) {
    for (const id of kv.getBlockIds(request)) holders.set(id, (holders.get(id) ?? 0) + 1);
  }
  const listed = [...kv.blockHolders()].map(([block, n]) => `${block.blockId}×${n}`).sort();
  const given = [...holders].map(([id, n]) => `${id}×${n}`).sort();
  if (listed.join(",") !== given.join(",")) {
    throw new Error(`the manager's holders hold [${listed}], the requests hold [${given}]`);
  }
  let used = 0;
  for (const block of pool.blocks) {
    if (block.isNull) {
      if (block !== pool.nullBlock || holders.has(block.blockId)) {
        throw new Error(`block ${block.blockId}: the null block is held by a request`);
      }
      continue;
    }
    const want = holders.get(block.blockId) ?? 0;
    if (block.refCnt !== want) {
      throw new Error(`block ${block.blockId}: refCnt(${block.refCnt}) != holders(${want})`);
    }
    if (block.refCnt > 0) used += 1;
  }
  const queueIds = pool.freeBlockQueue.blockIds();
  const free = pool.getNumFreeBlocks();
  if (queueIds.length !== free) {
    throw new Error(`free queue links ${queueIds.length} blocks but counts ${free}`);
  }
  for (const id of queueIds) {
    const block = pool.blocks[id]!;
    if (block.refCnt !== 0 || block.isNull) {
      throw new Error(`free queue holds block ${id} with refCnt ${block.refCnt}`);
    }
  }
  if (used + free + 1 !== pool.numGpuBlocks) {
    throw new Error(
      `used(${used}) + free(${free}) + null(1) = ${used + free + 1}, want num_gpu_blocks(${pool.numGpuBlocks})`,
    );
  }
  const usage = 1 - free / (pool.numGpuBlocks - 1);
  if (Math.abs(kv.usage - usage) > 1e-12) {
    throw new Error(
      `usage(${kv.usage}) != 1 − free(${free}) / (num_gpu_blocks(${pool.numGpuBlocks}) − 1) = ${usage}`,
    );
  }
}

/** Nothing leaked: every non-null block is free with refCnt 0 and no request holds blocks. */
export function checkAllBlocksFree(kv: KVCacheManager): void {
  const pool = kv.blockPool;
  const free = pool.getNumFreeBlocks();
  const referenced = pool.blocks.filter((b) => !b.isNull && b.refCnt !== 0).map((b) => b.blockId);
  if (free !== pool.numGpuBlocks - 1 || referenced.length > 0 || kv.numRequestsWithBlocks > 0) {
    throw new Error(
      `after all requests finished: free(${free}) want ${pool.numGpuBlocks - 1}, ` +
        `referenced blocks [${referenced.join(",")}], requests holding blocks(${kv.numRequestsWithBlocks})`,
    );
  }
}

export interface StepResult {
  scheduled: SchedulerOutput;
  outputs: EngineCoreOutputs;
}

/** One engine step without the kernel: schedule at time `t`, then apply the model's result. */
export function step(scheduler: Scheduler, t = 0): StepResult {
  const scheduled = scheduler.schedule(t);
  const outputs = scheduler.updateFromOutput(scheduled, t);
  return { scheduled, outputs };
}

/** Steps until nothing is left, failing loudly if that takes more than `maxSteps`. */
export function drain(scheduler: Scheduler, maxSteps = 10_000): StepResult[] {
  const results: StepResult[] = [];
  while (scheduler.hasRequests()) {
    if (results.length >= maxSteps) {
      throw new Error(
        `drain: still ${scheduler.running.length} running, ${scheduler.numWaiting} waiting after ${maxSteps} steps`,
      );
    }
    results.push(step(scheduler, results.length));
  }
  return results;
}

/** How many tokens each request got in one scheduler output, by request id. */
export function tokensByRequest(output: SchedulerOutput): Record<string, number> {
  return Object.fromEntries(output.scheduled.map((s) => [s.request.requestId, s.numNewTokens]));
}
