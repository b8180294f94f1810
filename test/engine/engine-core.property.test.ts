// Property of EngineCore and OutputProcessor together on the kernel: random arrivals into a small
// engine, every step's duration re-derived from the step-latency model, and every request's
// timings re-derived from the step timestamps as vLLM's IterationStats defines them
// (docs/vllm-reference.md#request-timings).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Simulation, usToSeconds } from "../../sim/index.ts";
import { EngineCore } from "../../src/engine/engine-core.ts";
import { OutputProcessor, type FinishedRequest } from "../../src/engine/output-processor.ts";
import type { Request } from "../../src/engine/request.ts";
import { stepDuration, type StepTimeModel } from "../../src/engine/step-latency.ts";
import type { IterationStats } from "../../src/engine/stats.ts";
import { PROFILES, type ProfileReport, report } from "../../src/accounting/profiles.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import { checkAllBlocksFree, engineParams, makeRequest, prompt } from "./helpers.ts";

interface Arrival {
  atUs: number;
  promptLen: number;
  sharedLen: number;
  maxTokens: number;
}

interface Case {
  blockSize: number;
  extraBlocks: number;
  budget: number;
  maxNumSeqs: number;
  reserveFullIsl: boolean;
  model: StepTimeModel;
  arrivals: Arrival[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  blockSize: fc.constantFrom(4, 16),
  extraBlocks: fc.integer({ min: 0, max: 2 }),
  budget: fc.integer({ min: 4, max: 64 }),
  maxNumSeqs: fc.integer({ min: 1, max: 5 }),
  reserveFullIsl: fc.boolean(),
  model: fc.record({
    kind: fc.constant("linear" as const),
    baseMs: fc.constantFrom(0, 1),
    perPrefillTokenUs: fc.integer({ min: 0, max: 20 }),
    perDecodeSeqUs: fc.integer({ min: 0, max: 200 }),
    perContextTokenNs: fc.integer({ min: 0, max: 2000 }),
  }),
  arrivals: fc.array(
    fc.record({
      atUs: fc.integer({ min: 0, max: 5_000 }),
      promptLen: fc.integer({ min: 1, max: 60 }),
      sharedLen: fc.integer({ min: 0, max: 60 }),
      maxTokens: fc.integer({ min: 1, max: 16 }),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

interface Seen {
  arrival: number;
  firstScheduled: number | null;
  outputTimes: number[];
}

interface Reached {
  preemption: boolean;
  queueing: boolean;
  chunkedPrefill: boolean;
  prefixHit: boolean;
  mixedBatch: boolean;
}

function runCase(c: Case): Reached {
  const B = c.blockSize;
  const maxModelLen = Math.max(...c.arrivals.map((a) => a.promptLen)) + 1 + 16;
  const params = engineParams({
    blockSize: B,
    numGpuBlocks: Math.ceil(maxModelLen / B) + c.extraBlocks + 1,
    maxModelLen,
    maxNumBatchedTokens: c.budget,
    maxNumSeqs: c.maxNumSeqs,
    reserveFullIsl: c.reserveFullIsl,
  });
  const sim = new Simulation();
  const op = new OutputProcessor();
  const seen = new Map<string, Seen>();
  const iterations: IterationStats[] = [];
  const finished: FinishedRequest[] = [];
  const requests: Request[] = [];
  let lastStepEnd = 0;
  const reached: Reached = {
    preemption: false,
    queueing: false,
    chunkedPrefill: false,
    prefixHit: false,
    mixedBatch: false,
  };

  const engine = new EngineCore(sim, params, c.model, (outputs, scheduled) => {
    if (scheduled !== null && scheduled.totalNumScheduledTokens > 0) {
      // The step ran from schedule time to now, for as long as the model says.
      expect(scheduled.timestamp).toBeGreaterThanOrEqual(lastStepEnd);
      const sampled = new Set(outputs.outputs.map((o) => o.requestId));
      let prefillTokens = 0;
      let decodeSeqs = 0;
      let prefillSeqs = 0;
      let context = 0;
      let pairs = 0;
      for (const x of scheduled.scheduled) {
        const r = x.request;
        const numTokensBefore = r.numTokens - (sampled.has(r.requestId) ? 1 : 0);
        const outputsBefore = numTokensBefore - r.numPromptTokens;
        const isDecode =
          x.numNewTokens === 1 && outputsBefore > 0 && x.numComputedBefore === numTokensBefore - 1;
        if (isDecode) decodeSeqs += 1;
        else {
          prefillTokens += x.numNewTokens;
          prefillSeqs += 1;
        }
        context += x.numComputedBefore;
        pairs += x.numNewTokens * x.numComputedBefore + (x.numNewTokens * (x.numNewTokens + 1)) / 2;
        const s = seen.get(r.requestId)!;
        s.firstScheduled ??= scheduled.timestamp;
        if (!sampled.has(r.requestId)) reached.chunkedPrefill = true; // a partial prefill step
      }
      const want = stepDuration(c.model, {
        numPrefillTokens: prefillTokens,
        numDecodeSeqs: decodeSeqs,
        numPrefillSeqs: prefillSeqs,
        numContextTokens: context,
        numAttentionPairs: pairs,
      });
      expect(outputs.timestamp - scheduled.timestamp).toBe(want);
      if (prefillTokens > 0 && decodeSeqs > 0) reached.mixedBatch = true;
      lastStepEnd = outputs.timestamp;
    }
    for (const o of outputs.outputs) seen.get(o.requestId)!.outputTimes.push(outputs.timestamp);
    const processed = op.processOutputs(outputs);
    iterations.push(processed.iterationStats);
    finished.push(...processed.finished);
  });

  c.arrivals.forEach((a, i) => {
    sim.scheduleAt(a.atUs, () => {
      const request = makeRequest({
        id: `r${i}`,
        promptTokenIds: prompt(a.promptLen, 100 + i, { stream: 1, tokens: a.sharedLen }),
        maxTokens: a.maxTokens,
        blockSize: B,
        arrivalTime: sim.now,
      });
      requests.push(request);
      seen.set(request.requestId, { arrival: sim.now, firstScheduled: null, outputTimes: [] });
      op.addRequest(request.requestId, a.promptLen, a.maxTokens, sim.now);
      engine.addRequest(request);
    });
  });
  sim.run({ maxEvents: 1_000_000 });

  // The loop went idle with nothing left: every request finished and gave its blocks back.
  expect(sim.pendingEvents).toBe(0);
  expect(finished).toHaveLength(c.arrivals.length);
  expect(op.numUnfinishedRequests).toBe(0);
  checkAllBlocksFree(engine.kvCacheManager);

  const sec = usToSeconds;
  for (const f of finished) {
    const s = seen.get(f.stats.requestId)!;
    const firstToken = s.outputTimes[0]!;
    const lastToken = s.outputTimes.at(-1)!;
    const firstScheduled = s.firstScheduled!;
    expect(f.stats.queuedTime).toBeCloseTo(sec(firstScheduled - s.arrival), 9);
    expect(f.stats.prefillTime).toBeCloseTo(sec(firstToken - firstScheduled), 9);
    expect(f.stats.decodeTime).toBeCloseTo(sec(lastToken - firstToken), 9);
    expect(f.stats.inferenceTime).toBeCloseTo(sec(lastToken - firstScheduled), 9);
    expect(f.stats.e2eLatency).toBeCloseTo(sec(lastToken - s.arrival), 9);
    expect(f.stats.numGenerationTokens).toBe(s.outputTimes.length);
    if (firstScheduled > s.arrival) reached.queueing = true;
  }
  // TTFTs and inter-token latencies, step by step, in output order.
  const ttfts = iterations.flatMap((it) => it.timeToFirstTokensIter);
  const itls = iterations.flatMap((it) => it.interTokenLatenciesIter);
  const wantTtfts: number[] = [];
  const wantItls: number[] = [];
  const byTime = new Map<number, { id: string; index: number }[]>();
  for (const [id, s] of seen) {
    s.outputTimes.forEach((t, index) => {
      const list = byTime.get(t) ?? [];
      list.push({ id, index });
      byTime.set(t, list);
    });
  }
  for (const t of [...byTime.keys()].sort((a, b) => a - b)) {
    for (const { id, index } of byTime.get(t)!) {
      const s = seen.get(id)!;
      if (index === 0) wantTtfts.push(sec(t - s.arrival));
      else wantItls.push(sec(t - s.outputTimes[index - 1]!));
    }
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  expect(sorted(ttfts).map((x) => x.toFixed(9))).toEqual(
    sorted(wantTtfts).map((x) => x.toFixed(9)),
  );
  expect(sorted(itls).map((x) => x.toFixed(9))).toEqual(sorted(wantItls).map((x) => x.toFixed(9)));

  // Preemptions, prompt and generation tokens add up over the iterations.
  const sum = (f: (it: IterationStats) => number) => iterations.reduce((a, it) => a + f(it), 0);
  const numPreemptions = requests.reduce((a, r) => a + r.numPreemptions, 0);
  expect(sum((it) => it.numPreemptedReqs)).toBe(numPreemptions);
  const totalPrompt = requests.reduce((a, r) => a + r.numPromptTokens, 0);
  expect(sum((it) => it.numPromptTokens)).toBe(totalPrompt);
  // Current vLLM's PromptTokenStats over each step's first outputs.
  const current = (f: (r: ProfileReport) => number) =>
    sum((it) =>
      it.firstOutputs.reduce((a, inputs) => a + f(report(PROFILES["vllm-pr37460"], inputs)), 0),
    );
  expect(current((r) => r.promptTokensTotal)).toBe(totalPrompt);
  expect(current((r) => r.localCompute + r.cached)).toBe(totalPrompt);
  expect(sum((it) => it.numGenerationTokens)).toBe(
    requests.reduce((a, r) => a + r.numOutputTokens, 0),
  );
  if (numPreemptions > 0) reached.preemption = true;
  if (current((r) => r.localCacheHit) > 0) reached.prefixHit = true;
  return reached;
}

describe("EngineCore and OutputProcessor under random arrivals", () => {
  it("time every step by the model and every request as vLLM's IterationStats does", () => {
    const runs: Reached[] = [];
    fc.assert(
      fc.property(caseArb, (c) => {
        runs.push(runCase(c));
      }),
      propertyParamsWithRuns(100),
    );
    expectReached("EngineCore workloads", runs, 0.1);
  });
});
