import { describe, expect, it } from "vitest";
import { OutputProcessor } from "../../src/engine/output-processor.ts";
import type { EngineCoreEvent } from "../../src/engine/request.ts";
import type { EngineCoreOutput, EngineCoreOutputs } from "../../src/engine/scheduler-output.ts";
import type { FinishReason } from "../../src/engine/request-status.ts";
import { type PrefillStats, PrefixCacheStats } from "../../src/engine/stats.ts";
import { PROFILES, report } from "../../src/accounting/profiles.ts";

const S = 1_000_000; // microseconds per second

function out(
  requestId: string,
  fields: {
    events?: EngineCoreEvent[];
    finishReason?: FinishReason;
    prefillStats?: PrefillStats;
    numCachedTokens?: number;
    numExternalComputedTokens?: number;
  } = {},
): EngineCoreOutput {
  return {
    requestId,
    numNewTokens: 1,
    finishReason: fields.finishReason ?? null,
    events: fields.events ?? null,
    numCachedTokens: fields.numCachedTokens ?? 0,
    numExternalComputedTokens: fields.numExternalComputedTokens ?? 0,
    kvTransferParams: null,
    prefillStats: fields.prefillStats ?? null,
  };
}

function at(timestamp: number, outputs: EngineCoreOutput[]): EngineCoreOutputs {
  return {
    timestamp,
    outputs,
    schedulerStats: {
      numRunningReqs: 0,
      numWaitingReqs: 0,
      kvCacheUsage: 0,
      prefixCacheStats: new PrefixCacheStats(),
      connectorPrefixCacheStats: null,
    },
  };
}

describe("OutputProcessor", () => {
  it("computes TTFT, queue, prefill, decode, inference and e2e times as vLLM's IterationStats defines them", () => {
    const op = new OutputProcessor();
    op.addRequest("a", 40, 3, 0);
    const first = op.processOutputs(
      at(1.5 * S, [
        out("a", {
          events: [
            { type: "QUEUED", timestamp: 0 },
            { type: "SCHEDULED", timestamp: 1 * S },
          ],
        }),
      ]),
    );
    expect(first.iterationStats.timeToFirstTokensIter).toEqual([1.5]);
    expect(first.iterationStats.interTokenLatenciesIter).toEqual([]);
    const second = op.processOutputs(at(2 * S, [out("a")]));
    expect(second.iterationStats.timeToFirstTokensIter).toEqual([]);
    expect(second.iterationStats.interTokenLatenciesIter).toEqual([0.5]);
    const last = op.processOutputs(at(2.75 * S, [out("a", { finishReason: "length" })]));
    expect(last.iterationStats.interTokenLatenciesIter).toEqual([0.75]);
    const [done] = last.finished;
    expect(done!.stats).toMatchObject({
      requestId: "a",
      finishReason: "length",
      e2eLatency: 2.75, // last token − arrival
      queuedTime: 1, // first scheduled − arrival
      prefillTime: 0.5, // first token − first scheduled
      decodeTime: 1.25, // last token − first token
      inferenceTime: 1.75, // last token − first scheduled
      meanTimePerOutputToken: 0.625,
      numPromptTokens: 40,
      numGenerationTokens: 3,
      maxTokensParam: 3,
    });
    expect(last.iterationStats.finishedRequests).toEqual([done!.stats]);
    expect(last.iterationStats.maxNumGenerationTokensIter).toEqual([3]);
    expect(op.numUnfinishedRequests).toBe(0);
  });

  it("keeps the first SCHEDULED time across a preemption and counts the PREEMPTED event", () => {
    const op = new OutputProcessor();
    op.addRequest("a", 40, 2, 0);
    op.processOutputs(
      at(2 * S, [
        out("a", {
          events: [
            { type: "QUEUED", timestamp: 0 },
            { type: "SCHEDULED", timestamp: 1 * S },
          ],
        }),
      ]),
    );
    const { iterationStats, finished } = op.processOutputs(
      at(5 * S, [
        out("a", {
          finishReason: "stop",
          events: [
            { type: "PREEMPTED", timestamp: 3 * S },
            { type: "SCHEDULED", timestamp: 4 * S },
          ],
        }),
      ]),
    );
    expect(iterationStats.numPreemptedReqs).toBe(1);
    expect(iterationStats.interTokenLatenciesIter).toEqual([3]);
    expect(finished[0]!.stats.queuedTime).toBe(1);
    expect(finished[0]!.stats.inferenceTime).toBe(4);
    expect(finished[0]!.stats.finishReason).toBe("stop");
  });

  it("counts the full prompt once, with the first token, and every generated token", () => {
    const op = new OutputProcessor();
    op.addRequest("a", 40, 5, 0);
    op.addRequest("b", 25, 5, 0);
    const one = op.processOutputs(at(S, [out("a"), out("b")]));
    expect(one.iterationStats.numPromptTokens).toBe(65);
    expect(one.iterationStats.numGenerationTokens).toBe(2);
    const two = op.processOutputs(at(2 * S, [out("a"), out("b")]));
    expect(two.iterationStats.numPromptTokens).toBe(0);
    expect(two.iterationStats.numGenerationTokens).toBe(2);
  });

  it("takes prompt-token sources from PrefillStats: computed N − L − E, cached L + E", () => {
    const op = new OutputProcessor();
    op.addRequest("a", 40, 5, 0);
    op.addRequest("b", 100, 5, 0);
    const { iterationStats } = op.processOutputs(
      at(S, [
        out("a", {
          prefillStats: { numPromptTokens: 40, localCacheHit: 32, externalKvTransfer: 0 },
        }),
        out("b", {
          prefillStats: { numPromptTokens: 100, localCacheHit: 16, externalKvTransfer: 60 },
        }),
      ]),
    );
    // Current vLLM's PromptTokenStats, summed over the step's first outputs.
    const current = iterationStats.firstOutputs.map((inputs) =>
      report(PROFILES["vllm-pr37460"], inputs),
    );
    const sum = (f: (r: (typeof current)[number]) => number) =>
      current.reduce((a, r) => a + f(r), 0);
    expect({
      total: sum((r) => r.promptTokensTotal),
      computed: sum((r) => r.localCompute),
      localCacheHit: sum((r) => r.localCacheHit),
      externalKvTransfer: sum((r) => r.externalKvTransfer),
      cached: sum((r) => r.cached),
    }).toEqual({
      total: 140,
      computed: 8 + 24,
      localCacheHit: 48,
      externalKvTransfer: 60,
      cached: 108,
    });
    const later = op.processOutputs(at(2 * S, [out("a"), out("b")]));
    expect(later.iterationStats.firstOutputs).toEqual([]);
  });

  it("passes num_cached_tokens and num_external_computed_tokens of the first output through to the finished request's stats", () => {
    const op = new OutputProcessor();
    op.addRequest("a", 40, 2, 0);
    const first = op.processOutputs(
      at(S, [out("a", { numCachedTokens: 32, numExternalComputedTokens: 16 })]),
    );
    expect(first.finished).toEqual([]);
    // A later output's values (a preemption re-wrote e) do not replace the first output's.
    const { finished } = op.processOutputs(
      at(2 * S, [out("a", { finishReason: "length", numCachedTokens: 0 })]),
    );
    expect(finished[0]!.stats.promptTokenInputs).toEqual({
      requestId: "a",
      numPromptTokens: 40,
      numCachedTokens: 32,
      numExternalComputedTokens: 16,
      prefillStats: null,
    });
  });

  it("rejects an output for a request it does not know", () => {
    const op = new OutputProcessor();
    expect(() => op.processOutputs(at(S, [out("ghost")]))).toThrow(/unknown request ghost/);
  });
});
