import { describe, expect, it } from "vitest";
import type { Request } from "../../src/engine/request.ts";
import type { Scheduler } from "../../src/engine/scheduler.ts";
import {
  checkAllBlocksFree,
  drain,
  engineParams,
  makeRequest,
  makeScheduler,
  step,
  streamTokens,
  tokensByRequest,
  type EngineParams,
} from "./helpers.ts";

const B = 16;

function setup(overrides: Partial<EngineParams> = {}): Scheduler {
  return makeScheduler(engineParams({ blockSize: B, ...overrides }));
}

function add(
  scheduler: Scheduler,
  id: string,
  promptTokenIds: number[],
  opts: { maxTokens?: number; stopAfterTokens?: number } = {},
): Request {
  const request = makeRequest({ id, promptTokenIds, blockSize: B, ...opts });
  scheduler.addRequest(request, 0);
  return request;
}

const waitingIds = (s: Scheduler) => s.waiting.toArray().map((r) => r.requestId);
const runningIds = (s: Scheduler) => s.running.map((r) => r.requestId);

describe("Scheduler token budget and chunked prefill", () => {
  it("gives a long prompt min(remaining, budget) per step and no output until the prompt is done", () => {
    const s = setup({ maxNumBatchedTokens: 32 });
    const a = add(s, "a", streamTokens(1, 0, 80));
    const steps = [step(s), step(s), step(s)];
    expect(steps.map((r) => r.scheduled.totalNumScheduledTokens)).toEqual([32, 32, 16]);
    expect(steps.map((r) => r.outputs.outputs.length)).toEqual([0, 0, 1]);
    expect(a.numOutputTokens).toBe(1);
    expect(step(s).scheduled.totalNumScheduledTokens).toBe(1); // then one token per decode step
  });

  it("caps each request's chunk at long_prefill_token_threshold when it is set", () => {
    const s = setup({ maxNumBatchedTokens: 100, longPrefillTokenThreshold: 24 });
    add(s, "a", streamTokens(1, 0, 80));
    add(s, "b", streamTokens(2, 0, 30));
    const chunks = [step(s), step(s), step(s), step(s)].map((r) => tokensByRequest(r.scheduled));
    expect(chunks).toEqual([
      { a: 24, b: 24 },
      { a: 24, b: 6 },
      { a: 24, b: 1 },
      { a: 8, b: 1 },
    ]);
  });

  it("gives a later request only what is left of the budget", () => {
    const s = setup({ maxNumBatchedTokens: 64 });
    add(s, "a", streamTokens(1, 0, 50));
    add(s, "b", streamTokens(2, 0, 50));
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 50, b: 14 });
  });

  it("with chunked prefill off, holds back a prompt that does not fit the remaining budget", () => {
    const s = setup({ maxNumBatchedTokens: 64, enableChunkedPrefill: false });
    add(s, "a", streamTokens(1, 0, 50));
    add(s, "b", streamTokens(2, 0, 30));
    add(s, "c", streamTokens(3, 0, 5)); // would fit, but b is first in line
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 50 });
    expect(waitingIds(s)).toEqual(["b", "c"]);
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 1, b: 30, c: 5 });
  });

  it("schedules running requests before waiting ones, in running order", () => {
    const s = setup({ maxNumBatchedTokens: 40 });
    add(s, "a", streamTokens(1, 0, 60));
    step(s); // a has 40 of 60
    add(s, "b", streamTokens(2, 0, 30));
    const out = step(s).scheduled;
    expect(out.scheduled.map((x) => [x.request.requestId, x.numNewTokens])).toEqual([
      ["a", 20],
      ["b", 20],
    ]);
  });

  it("never runs more than max_num_seqs requests at once", () => {
    const s = setup({ maxNumSeqs: 2 });
    add(s, "a", streamTokens(1, 0, 20), { maxTokens: 2 });
    add(s, "b", streamTokens(2, 0, 20), { maxTokens: 3 });
    add(s, "c", streamTokens(3, 0, 20), { maxTokens: 1 });
    expect(Object.keys(tokensByRequest(step(s).scheduled))).toEqual(["a", "b"]);
    expect(Object.keys(tokensByRequest(step(s).scheduled))).toEqual(["a", "b"]); // a finishes
    expect(tokensByRequest(step(s).scheduled)).toEqual({ b: 1, c: 20 });
  });
});

describe("Scheduler admission", () => {
  it("stops at the first waiting request that does not fit, even if a later one would", () => {
    const s = setup({ numGpuBlocks: 5 }); // 4 usable blocks
    add(s, "a", streamTokens(1, 0, 40), { maxTokens: 2 }); // 3 blocks
    add(s, "big", streamTokens(2, 0, 40)); // 3 blocks: does not fit beside a
    add(s, "small", streamTokens(3, 0, 8)); // 1 block: would fit
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 40 });
    expect(waitingIds(s)).toEqual(["big", "small"]);
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 1 }); // a finishes, frees its blocks
    expect(tokensByRequest(step(s).scheduled)).toEqual({ big: 40, small: 8 });
  });

  it("with the reserve-full-ISL gate, admits a request only if its whole sequence fits", () => {
    const gated = setup({ numGpuBlocks: 5, maxNumBatchedTokens: 32, reserveFullIsl: true });
    add(gated, "long", streamTokens(1, 0, 80)); // 5 blocks > 4 usable
    add(gated, "short", streamTokens(2, 0, 64)); // 4 blocks: fits, but waits behind long
    const out = gated.schedule(0);
    expect(out.totalNumScheduledTokens).toBe(0);
    expect(gated.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(4);

    const ungated = setup({ numGpuBlocks: 5, maxNumBatchedTokens: 32, reserveFullIsl: false });
    add(ungated, "long", streamTokens(1, 0, 80));
    expect(tokensByRequest(step(ungated).scheduled)).toEqual({ long: 32 }); // its first chunk fits

    const fits = setup({ numGpuBlocks: 5, maxNumBatchedTokens: 32, reserveFullIsl: true });
    add(fits, "short", streamTokens(2, 0, 64));
    expect(tokensByRequest(step(fits).scheduled)).toEqual({ short: 32 });
  });

  it("counts prefix-cache queries and hits once, at admission, not for blocked lookups", () => {
    const s = setup({ numGpuBlocks: 5 }); // 4 usable blocks
    const tokens = streamTokens(1, 0, 40);
    add(s, "a", tokens, { maxTokens: 1 }); // leaves 2 cached blocks behind
    const first = step(s).outputs.schedulerStats.prefixCacheStats;
    expect([first.requests, first.queries, first.hits]).toEqual([1, 40, 0]);
    add(s, "x", streamTokens(2, 0, 20), { maxTokens: 3 }); // takes the 2 uncached free blocks
    add(s, "b", tokens, { maxTokens: 1 }); // needs a's 2 blocks back plus 1: blocked
    const second = step(s).outputs.schedulerStats.prefixCacheStats;
    expect([second.requests, second.queries, second.hits]).toEqual([1, 20, 0]);
    const blocked = step(s);
    expect(tokensByRequest(blocked.scheduled)).toEqual({ x: 1 });
    const none = blocked.outputs.schedulerStats.prefixCacheStats;
    expect([none.requests, none.queries, none.hits]).toEqual([0, 0, 0]);
    step(s); // x finishes
    const admitted = step(s);
    expect(tokensByRequest(admitted.scheduled)).toEqual({ b: 8 });
    const stats = admitted.outputs.schedulerStats.prefixCacheStats;
    expect([stats.requests, stats.queries, stats.hits]).toEqual([1, 40, 32]);
    expect(stats.preemptedRequests).toBe(0);
  });
});

describe("Scheduler preemption", () => {
  /**
   * Two requests fill a 6-block pool (3 blocks each, 33-token prompts); a waiting third one sits
   * behind them. When `a`'s sequence reaches 49 tokens it needs a 4th block and `v` is preempted.
   */
  function preemptionSetup() {
    const s = setup({ numGpuBlocks: 7 });
    const a = add(s, "a", streamTokens(1, 0, 33), { maxTokens: 20 });
    const v = add(s, "v", streamTokens(2, 0, 33), { maxTokens: 20 });
    step(s);
    const c = add(s, "c", streamTokens(3, 0, 5), { maxTokens: 1 });
    let preempting = step(s, 1);
    while (preempting.scheduled.preempted.length === 0) {
      preempting = step(s, preempting.scheduled.timestamp + 1);
    }
    return { s, a, v, c, preempting };
  }

  it("preempts the last running request, frees its blocks and puts it at the front of the waiting queue", () => {
    const { s, a, v, preempting } = preemptionSetup();
    // v had computed as far as a: 48 tokens, all lost.
    expect(preempting.scheduled.preempted).toEqual([{ request: v, numComputedTokens: 48 }]);
    expect(a.numTokens).toBe(50); // it computed token 49 and sampled token 50
    expect(v.status).toBe("PREEMPTED");
    expect(v.numComputedTokens).toBe(0);
    expect(v.numPreemptions).toBe(1);
    expect(runningIds(s)).toEqual(["a"]);
    expect(waitingIds(s)).toEqual(["v", "c"]);
    expect(s.kvCacheManager.getBlockIds(v)).toHaveLength(0);
    // v's cached blocks stay evictable: the pool took its last block for a, the rest still hit.
    expect(s.kvCacheManager.getComputedBlocks(v).numComputedTokens).toBe(32);
  });

  it("admits no waiting request in a step that preempted, even one that would fit", () => {
    // Without caching or the full-ISL gate, the victim's next 16-token chunk needs one block.
    const s = setup({
      numGpuBlocks: 5,
      enablePrefixCaching: false,
      reserveFullIsl: false,
      longPrefillTokenThreshold: 16,
    });
    add(s, "a", streamTokens(1, 0, 32), { maxTokens: 5 });
    const v = add(s, "v", streamTokens(2, 0, 32), { maxTokens: 5 });
    step(s);
    step(s); // both prompts done: the pool is full
    const preempting = step(s).scheduled; // a's 33rd token needs a third block
    expect(preempting.preempted).toEqual([{ request: v, numComputedTokens: 32 }]);
    expect(tokensByRequest(preempting)).toEqual({ a: 1 });
    expect(s.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(1);
    expect(tokensByRequest(step(s).scheduled)).toEqual({ a: 1, v: 16 });
  });

  it("re-admits a preempted request through the prefix cache, where its own blocks hit, and finishes it", () => {
    const { s, v } = preemptionSetup();
    const rest = drain(s);
    const readmission = rest.find((r) => r.scheduled.scheduled.some((x) => x.request === v))!;
    const entry = readmission.scheduled.scheduled.find((x) => x.request === v)!;
    expect(entry.numComputedBefore).toBe(32);
    expect(entry.numNewTokens).toBe(17); // 33 prompt + 16 output tokens, less the hit
    const stats = readmission.outputs.schedulerStats.prefixCacheStats;
    expect([stats.preemptedRequests, stats.preemptedQueries, stats.preemptedHits]).toEqual([
      1, 49, 32,
    ]);
    expect(v.status).toBe("FINISHED_LENGTH_CAPPED");
    expect(v.numOutputTokens).toBe(20);
    checkAllBlocksFree(s.kvCacheManager);
  });

  it("writes num_cached_tokens once, at first admission, and never resets it on preemption", () => {
    const { s, v } = preemptionSetup();
    expect(v.numCachedTokens).toBe(0);
    drain(s);
    expect(v.numCachedTokens).toBe(0); // not the 32 its re-admission hit
  });

  it("sends a PREEMPTED event with the request's next output", () => {
    const { s } = preemptionSetup();
    const rest = drain(s);
    const events = rest
      .flatMap((r) => r.outputs.outputs)
      .filter((o) => o.requestId === "v")
      .flatMap((o) => o.events ?? []);
    expect(events.map((e) => e.type)).toEqual(["PREEMPTED", "SCHEDULED"]);
  });

  it("preempts from the back until the request at the front can grow", () => {
    const s = setup({ numGpuBlocks: 5, maxNumBatchedTokens: 64, reserveFullIsl: false });
    const a = add(s, "a", streamTokens(1, 0, 32), { maxTokens: 40 });
    const b = add(s, "b", streamTokens(2, 0, 8), { maxTokens: 40 });
    const c = add(s, "c", streamTokens(3, 0, 8), { maxTokens: 40 });
    step(s); // a: 2 blocks, b: 1, c: 1 — the pool is full
    const out = step(s).scheduled; // a's 33rd token needs a third block
    expect(out.preempted).toEqual([{ request: c, numComputedTokens: 8 }]);
    expect(tokensByRequest(out)).toEqual({ a: 1, b: 1 });
    expect(waitingIds(s)).toEqual(["c"]);
    expect([a.numPreemptions, b.numPreemptions, c.numPreemptions]).toEqual([0, 0, 1]);
  });

  it("re-records PrefillStats on re-admission until the first output takes them", () => {
    // v is preempted in the middle of its chunked prefill, before any output.
    const s = setup({ numGpuBlocks: 6, longPrefillTokenThreshold: 16, reserveFullIsl: false });
    add(s, "a", streamTokens(1, 0, 31), { maxTokens: 3 });
    const v = add(s, "v", streamTokens(2, 0, 64), { maxTokens: 1 });
    const results = drain(s);
    expect(v.numPreemptions).toBe(1);
    const first = results.flatMap((r) => r.outputs.outputs).find((o) => o.requestId === "v")!;
    expect(first.prefillStats).toEqual({
      numPromptTokens: 64,
      localCacheHit: 32,
      externalKvTransfer: 0,
    });
    expect(first.numCachedTokens).toBe(0); // the old field keeps the first admission's value
  });
});

describe("Scheduler outputs and finishing", () => {
  it("finishes with `length` at max_tokens", () => {
    const s = setup();
    const a = add(s, "a", streamTokens(1, 0, 20), { maxTokens: 3 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.finishReason)).toEqual([null, null, "length"]);
    expect(a.status).toBe("FINISHED_LENGTH_CAPPED");
  });

  it("finishes with `stop` at the natural output length when it comes before max_tokens", () => {
    const s = setup();
    const a = add(s, "a", streamTokens(1, 0, 20), { maxTokens: 10, stopAfterTokens: 4 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.finishReason)).toEqual([null, null, null, "stop"]);
    expect(a.status).toBe("FINISHED_STOPPED");
  });

  it("finishes with `length` at max_tokens when the natural length is longer", () => {
    const s = setup();
    add(s, "a", streamTokens(1, 0, 20), { maxTokens: 2, stopAfterTokens: 5 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.finishReason)).toEqual([null, "length"]);
  });

  it("finishes with `stop` when the natural length equals max_tokens, as vLLM checks EOS first", () => {
    const s = setup();
    const a = add(s, "a", streamTokens(1, 0, 20), { maxTokens: 3, stopAfterTokens: 3 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.finishReason)).toEqual([null, null, "stop"]);
    expect(a.status).toBe("FINISHED_STOPPED");
  });

  it("finishes with `length` when the sequence reaches max_model_len", () => {
    const s = setup({ maxModelLen: 24 });
    const a = add(s, "a", streamTokens(1, 0, 20), { maxTokens: 100, stopAfterTokens: 50 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.finishReason)).toEqual([null, null, null, "length"]);
    expect(a.numTokens).toBe(24);
  });

  it("puts PrefillStats on the first output only", () => {
    const s = setup();
    add(s, "a", streamTokens(1, 0, 40), { maxTokens: 1 });
    drain(s);
    add(s, "b", streamTokens(1, 0, 40), { maxTokens: 3 });
    const outputs = drain(s).flatMap((r) => r.outputs.outputs);
    expect(outputs.map((o) => o.prefillStats)).toEqual([
      { numPromptTokens: 40, localCacheHit: 32, externalKvTransfer: 0 },
      null,
      null,
    ]);
    expect(outputs.map((o) => o.numCachedTokens)).toEqual([32, 32, 32]);
  });

  it("sends QUEUED and SCHEDULED with the first output and no events after that", () => {
    const s = setup();
    const a = makeRequest({
      id: "a",
      promptTokenIds: streamTokens(1, 0, 20),
      blockSize: B,
      maxTokens: 2,
    });
    s.addRequest(a, 5);
    const first = step(s, 7).outputs.outputs[0]!;
    expect(first.events).toEqual([
      { type: "QUEUED", timestamp: 5 },
      { type: "SCHEDULED", timestamp: 7 },
    ]);
    expect(step(s, 8).outputs.outputs[0]!.events).toBeNull();
  });

  it("reports running, waiting and KV usage after the step in its stats", () => {
    const s = setup({ numGpuBlocks: 5, maxNumSeqs: 1 });
    add(s, "a", streamTokens(1, 0, 20), { maxTokens: 5 });
    add(s, "b", streamTokens(2, 0, 20), { maxTokens: 5 });
    const stats = step(s).outputs.schedulerStats;
    expect([stats.numRunningReqs, stats.numWaitingReqs, stats.kvCacheUsage]).toEqual([1, 1, 0.5]);
  });

  it("rejects a request id it already holds", () => {
    const s = setup();
    add(s, "a", streamTokens(1, 0, 20));
    expect(() => add(s, "a", streamTokens(2, 0, 20))).toThrow(/duplicate request id a/);
  });
});
