// Property of the scheduler over random workloads, driven step by step without the kernel: small
// pools so that requests preempt each other, shared prefixes so that they hit, small budgets so
// that prompts are chunked. Every step is checked against vLLM's scheduler rules
// (docs/vllm-reference.md#scheduler).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Request } from "../../src/engine/request.ts";
import type { Scheduler } from "../../src/engine/scheduler.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../../src/engine/scheduler-output.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import {
  checkAllBlocksFree,
  checkBlockConservation,
  makeRequest,
  makeScheduler,
  prompt,
  type EngineParams,
} from "./helpers.ts";
import { type PromptShape, promptLength, promptShapeArb, sharedLength } from "./prompt-shape.ts";

interface RequestShape extends PromptShape {
  maxTokens: number;
  stopAfter: number | null;
  arrivalStep: number;
}

interface Workload {
  blockSize: number;
  extraBlocks: number;
  modelLenSlack: number;
  budget: number;
  maxNumSeqs: number;
  chunked: boolean;
  threshold: number;
  reserveFullIsl: boolean;
  caching: boolean;
  requests: RequestShape[];
}

const shapeArb: fc.Arbitrary<RequestShape> = fc
  .tuple(
    promptShapeArb(4, 3),
    fc.record({
      maxTokens: fc.integer({ min: 1, max: 16 }),
      stopAfter: fc.option(fc.integer({ min: 1, max: 16 }), { nil: null }),
      arrivalStep: fc.integer({ min: 0, max: 6 }),
    }),
  )
  .map(([shape, rest]) => ({ ...shape, ...rest }));

const workloadArb: fc.Arbitrary<Workload> = fc
  .record({
    blockSize: fc.constantFrom(2, 4, 16),
    extraBlocks: fc.integer({ min: 0, max: 3 }),
    modelLenSlack: fc.integer({ min: 0, max: 16 }),
    budget: fc.integer({ min: 2, max: 64 }),
    maxNumSeqs: fc.integer({ min: 1, max: 5 }),
    chunked: fc.boolean(),
    threshold: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 16 })),
    reserveFullIsl: fc.boolean(),
    caching: fc.oneof(
      { weight: 3, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    requests: fc.array(shapeArb, { minLength: 2, maxLength: 8 }),
  })
  .map((w) => (w.chunked ? w : { ...w, threshold: 0 }));

/** Engine parameters in which every request fits the pool alone, so every request can finish. */
function paramsFor(w: Workload, prompts: number[][]): EngineParams {
  const B = w.blockSize;
  const maxPrompt = Math.max(...prompts.map((p) => p.length));
  const maxModelLen = maxPrompt + 1 + w.modelLenSlack; // the front end refuses N >= max_model_len
  return {
    blockSize: B,
    numGpuBlocks: Math.ceil(maxModelLen / B) + w.extraBlocks + 1,
    enablePrefixCaching: w.caching,
    maxNumBatchedTokens: w.chunked ? w.budget : maxModelLen + w.budget,
    maxNumSeqs: w.maxNumSeqs,
    maxModelLen,
    enableChunkedPrefill: w.chunked,
    longPrefillTokenThreshold: w.threshold,
    reserveFullIsl: w.reserveFullIsl,
    kvLoadFailurePolicy: "fail",
  };
}

interface Reached {
  nBelowB: boolean;
  nMultipleOfB: boolean;
  nMultipleOfBPlusOne: boolean;
  fullHit: boolean;
  eviction: boolean;
  preemption: boolean;
  readmissionHit: boolean;
  chunkedPrefill: boolean;
  admissionBlockedByBlocks: boolean;
  maxNumSeqsReached: boolean;
  finishStop: boolean;
  finishMaxTokens: boolean;
  finishMaxModelLen: boolean;
}

const noneReached = (): Reached => ({
  nBelowB: false,
  nMultipleOfB: false,
  nMultipleOfBPlusOne: false,
  fullHit: false,
  eviction: false,
  preemption: false,
  readmissionHit: false,
  chunkedPrefill: false,
  admissionBlockedByBlocks: false,
  maxNumSeqsReached: false,
  finishStop: false,
  finishMaxTokens: false,
  finishMaxModelLen: false,
});

/** What the test remembers about each request, to check what the scheduler reports. */
interface Track {
  request: Request;
  firstAdmissionHit: number | null;
  lastAdmissionHit: number;
  admissions: number;
  preemptions: number;
  outputs: number;
  prefillSteps: number;
  events: string[];
}

const thresholdOf = (p: EngineParams, n: number) =>
  p.longPrefillTokenThreshold > 0 ? Math.min(n, p.longPrefillTokenThreshold) : n;

/** Checks one schedule() call against the rules, given the state just before it. */
function checkSchedule(
  s: Scheduler,
  p: EngineParams,
  out: SchedulerOutput,
  runningBefore: Request[],
  /** Each running request's num_computed_tokens just before the call. */
  computedBefore: number[],
  waitingBefore: Request[],
  tracks: Map<string, Track>,
  reached: Reached,
): void {
  const B = p.blockSize;
  const kv = s.kvCacheManager;
  // Budget and sequence cap.
  const total = out.scheduled.reduce((sum, x) => sum + x.numNewTokens, 0);
  expect(out.totalNumScheduledTokens).toBe(total);
  expect(total).toBeLessThanOrEqual(p.maxNumBatchedTokens);
  expect(s.running.length).toBeLessThanOrEqual(p.maxNumSeqs);
  expect(out.scheduled.length).toBeLessThanOrEqual(p.maxNumSeqs);

  // Preemption takes the last running requests, last first, and puts them back at the front.
  const preempted = out.preempted.map((p) => p.request);
  preempted.forEach((r, j) => expect(r).toBe(runningBefore[runningBefore.length - 1 - j]));
  out.preempted.forEach((p, j) =>
    expect(p.numComputedTokens).toBe(computedBefore[runningBefore.length - 1 - j]),
  );
  for (const r of preempted) {
    const t = tracks.get(r.requestId)!;
    t.preemptions += 1;
    expect(r.status).toBe("PREEMPTED");
    expect(r.numComputedTokens).toBe(0);
    expect(r.numPreemptions).toBe(t.preemptions);
    expect(kv.getBlockIds(r)).toHaveLength(0);
    reached.preemption = true;
  }
  const survivors = runningBefore.slice(0, runningBefore.length - preempted.length);

  // Running requests first, as a prefix of the running list; then a prefix of the waiting queue.
  const running = out.scheduled.filter((x) => survivors.includes(x.request));
  const admitted = out.scheduled.slice(running.length);
  expect(running.map((x) => x.request)).toEqual(survivors.slice(0, running.length));
  expect(admitted.map((x) => x.request)).toEqual(waitingBefore.slice(0, admitted.length));
  if (preempted.length > 0) {
    expect(admitted).toHaveLength(0);
    expect(s.waiting.toArray()).toEqual([...[...preempted].reverse(), ...waitingBefore]);
  }

  // Each request's share: min(remaining, long-prefill threshold, what is left of the budget).
  let budgetLeft = p.maxNumBatchedTokens;
  for (const x of out.scheduled) {
    const remaining = x.request.numTokens - x.numComputedBefore;
    let want = Math.min(thresholdOf(p, remaining), budgetLeft);
    if (admitted.includes(x)) {
      if (!p.enableChunkedPrefill)
        expect(thresholdOf(p, remaining)).toBeLessThanOrEqual(budgetLeft);
    } else {
      want = Math.min(want, p.maxModelLen - 1 - x.numComputedBefore);
    }
    expect(x.numNewTokens).toBe(want);
    expect(x.request.numComputedTokens).toBe(x.numComputedBefore + x.numNewTokens);
    budgetLeft -= want;
  }
  if (running.length < survivors.length) expect(budgetLeft).toBe(0);

  // Admission: the hit is block-aligned and leaves at least one token to compute; the
  // admitted request is RUNNING; num_cached_tokens is written once.
  for (const x of admitted) {
    const r = x.request;
    const t = tracks.get(r.requestId)!;
    const maxHit = Math.floor((r.numTokens - 1) / B) * B;
    expect(x.numComputedBefore % B).toBe(0);
    expect(x.numComputedBefore).toBeLessThanOrEqual(maxHit);
    if (!p.enablePrefixCaching) expect(x.numComputedBefore).toBe(0);
    if (x.numComputedBefore > 0 && x.numComputedBefore === maxHit) reached.fullHit = true;
    if (t.admissions > 0 && x.numComputedBefore > 0) reached.readmissionHit = true;
    t.admissions += 1;
    t.lastAdmissionHit = x.numComputedBefore;
    t.firstAdmissionHit ??= x.numComputedBefore;
    expect(r.status).toBe("RUNNING");
    expect(r.numCachedTokens).toBe(t.firstAdmissionHit);
  }
  const last = admitted.at(-1);
  if (last !== undefined && p.reserveFullIsl) {
    // Nothing was allocated after the last admission, so its whole sequence must still fit.
    const held = kv.getBlockIds(last.request).length;
    const free = kv.blockPool.getNumFreeBlocks();
    expect(Math.ceil(last.request.numTokens / B) - held).toBeLessThanOrEqual(free);
  }

  // Admission stopped for a reason: budget, sequence cap, or the next request does not fit.
  const next = waitingBefore[admitted.length];
  if (preempted.length === 0 && next !== undefined && budgetLeft > 0) {
    if (s.running.length === p.maxNumSeqs) {
      reached.maxNumSeqsReached = true;
    } else {
      const hit =
        next.numComputedTokens === 0
          ? kv.getComputedBlocks(next)
          : { blocks: [], numComputedTokens: next.numComputedTokens };
      const remaining = thresholdOf(p, next.numTokens - hit.numComputedTokens);
      if (p.enableChunkedPrefill || remaining <= budgetLeft) {
        const evictable = hit.blocks.filter((b) => b.refCnt === 0).length;
        const needFor = (tokens: number) => Math.ceil(tokens / B) - hit.blocks.length + evictable;
        const need = Math.max(
          needFor(hit.numComputedTokens + Math.min(remaining, budgetLeft)),
          p.reserveFullIsl ? needFor(next.numTokens) : 0,
        );
        expect(need).toBeGreaterThan(kv.blockPool.getNumFreeBlocks());
        reached.admissionBlockedByBlocks = true;
      }
    }
  }
}

/** Checks one updateFromOutput() call: who sampled, what the outputs carry, who finished. */
function checkUpdate(
  s: Scheduler,
  p: EngineParams,
  out: SchedulerOutput,
  numTokensBefore: Map<Request, number>,
  result: EngineCoreOutputs,
  tracks: Map<string, Track>,
): void {
  const sampled = out.scheduled
    .filter((x) => x.numComputedBefore + x.numNewTokens === numTokensBefore.get(x.request))
    .map((x) => x.request.requestId);
  expect(result.outputs.map((o) => o.requestId)).toEqual(sampled);
  for (const x of out.scheduled) {
    const t = tracks.get(x.request.requestId)!;
    if (t.outputs === 0) t.prefillSteps += 1;
  }
  for (const o of result.outputs) {
    const t = tracks.get(o.requestId)!;
    const r = t.request;
    expect(o.numNewTokens).toBe(1);
    t.events.push(...(o.events ?? []).map((e) => e.type));
    if (t.outputs === 0) {
      // PrefillStats (current vLLM): the hit of the admission that led to this first output.
      expect(o.prefillStats).toEqual({
        numPromptTokens: r.numPromptTokens,
        localCacheHit: t.lastAdmissionHit,
        externalKvTransfer: 0,
      });
    } else {
      expect(o.prefillStats).toBeNull();
    }
    expect(o.numCachedTokens).toBe(t.firstAdmissionHit);
    t.outputs += 1;
    expect(r.numOutputTokens).toBe(t.outputs);
    if (o.finishReason !== null) {
      expect(s.running).not.toContain(r);
      expect(s.kvCacheManager.getBlockIds(r)).toHaveLength(0);
    } else {
      expect(s.running).toContain(r);
    }
  }
  expect(s.running.length).toBeLessThanOrEqual(p.maxNumSeqs);
  for (const w of s.waiting.toArray()) expect(s.kvCacheManager.getBlockIds(w)).toHaveLength(0);
}

function runWorkload(w: Workload): Reached {
  const reached = noneReached();
  const B = w.blockSize;
  const prompts = w.requests.map((shape, i) => {
    const n = promptLength(shape, B);
    const shared = sharedLength(shape, n, B);
    return prompt(n, 100 + i, { stream: shape.group, tokens: shared });
  });
  const p = paramsFor(w, prompts);
  const s = makeScheduler(p);
  const kv = s.kvCacheManager;
  const tracks = new Map<string, Track>();
  const requests = w.requests.map((shape, i) => {
    const n = prompts[i]!.length;
    if (n < B) reached.nBelowB = true;
    if (n >= B && n % B === 0) reached.nMultipleOfB = true;
    if (n > B && n % B === 1) reached.nMultipleOfBPlusOne = true;
    const request = makeRequest({
      id: `r${i}`,
      promptTokenIds: prompts[i]!,
      maxTokens: shape.maxTokens,
      ...(shape.stopAfter === null ? {} : { stopAfterTokens: shape.stopAfter }),
      blockSize: B,
    });
    tracks.set(request.requestId, {
      request,
      firstAdmissionHit: null,
      lastAdmissionHit: 0,
      admissions: 0,
      preemptions: 0,
      outputs: 0,
      prefillSteps: 0,
      events: [],
    });
    return request;
  });
  const lastArrival = Math.max(...w.requests.map((r) => r.arrivalStep));
  const stats = { requests: 0, queries: 0, hits: 0, pRequests: 0, pQueries: 0, pHits: 0 };
  const expected = { ...stats };

  for (let t = 0; t <= lastArrival || s.hasRequests(); t++) {
    if (t > 5000) throw new Error(`workload did not drain: ${JSON.stringify(p)}`);
    requests.forEach((r, i) => w.requests[i]!.arrivalStep === t && s.addRequest(r, t));
    const runningBefore = [...s.running];
    const computedBefore = runningBefore.map((r) => r.numComputedTokens);
    const waitingBefore = s.waiting.toArray();
    const hashesBefore = kv.blockPool.blocks.map((b) => b.blockHash);
    const out = s.schedule(t);
    checkSchedule(s, p, out, runningBefore, computedBefore, waitingBefore, tracks, reached);
    for (const x of out.scheduled.filter((e) => !runningBefore.includes(e.request))) {
      const r = x.request;
      if (r.numPreemptions > 0) {
        expected.pRequests += 1;
        expected.pQueries += r.numTokens;
        expected.pHits += x.numComputedBefore;
      } else {
        expected.requests += 1;
        expected.queries += r.numTokens;
        expected.hits += x.numComputedBefore;
      }
    }
    kv.blockPool.blocks.forEach((b, i) => {
      const before = hashesBefore[i];
      if (before !== null && b.blockHash !== before) reached.eviction = true;
    });
    const numTokensBefore = new Map(out.scheduled.map((x) => [x.request, x.request.numTokens]));
    const result = s.updateFromOutput(out, t);
    checkUpdate(s, p, out, numTokensBefore, result, tracks);
    const pc = result.schedulerStats.prefixCacheStats;
    stats.requests += pc.requests;
    stats.queries += pc.queries;
    stats.hits += pc.hits;
    stats.pRequests += pc.preemptedRequests;
    stats.pQueries += pc.preemptedQueries;
    stats.pHits += pc.preemptedHits;
    const unfinished = requests.filter((r) => !r.status.startsWith("FINISHED_"));
    checkBlockConservation(kv, unfinished);
  }

  // Everything finished, with the right reason and length, and nothing leaked.
  checkAllBlocksFree(kv);
  requests.forEach((r, i) => {
    const shape = w.requests[i]!;
    const t = tracks.get(r.requestId)!;
    const lengthCap = Math.min(shape.maxTokens, p.maxModelLen - r.numPromptTokens);
    const stopAfter = shape.stopAfter ?? Infinity;
    expect(r.numOutputTokens).toBe(Math.min(lengthCap, stopAfter));
    if (stopAfter < lengthCap) {
      expect(r.status).toBe("FINISHED_STOPPED");
      reached.finishStop = true;
    } else if (stopAfter > lengthCap) {
      expect(r.status).toBe("FINISHED_LENGTH_CAPPED");
      if (lengthCap < shape.maxTokens) reached.finishMaxModelLen = true;
      else reached.finishMaxTokens = true;
    }
    // Events: QUEUED once, SCHEDULED per admission, PREEMPTED per preemption.
    expect(t.events.filter((e) => e === "QUEUED")).toHaveLength(1);
    expect(t.events.filter((e) => e === "SCHEDULED")).toHaveLength(t.admissions);
    expect(t.events.filter((e) => e === "PREEMPTED")).toHaveLength(r.numPreemptions);
    if (t.prefillSteps > 1) reached.chunkedPrefill = true;
  });
  // Prefix-cache stats: queries N and hits L per admission, preempted re-admissions apart.
  if (p.enablePrefixCaching) expect(stats).toEqual(expected);
  else
    expect(stats).toEqual({
      requests: 0,
      queries: 0,
      hits: 0,
      pRequests: 0,
      pQueries: 0,
      pHits: 0,
    });
  return reached;
}

describe("Scheduler under random workloads", () => {
  it("keeps every scheduling rule at every step and finishes every request", () => {
    const runs: Reached[] = [];
    fc.assert(
      fc.property(workloadArb, (w) => {
        runs.push(runWorkload(w));
      }),
      propertyParamsWithRuns(120),
    );
    expectReached("Scheduler workloads", runs, 0.1);
  });
});
