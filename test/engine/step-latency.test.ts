import { describe, expect, it } from "vitest";
import type { ScheduledRequest, SchedulerOutput } from "../../src/engine/scheduler-output.ts";
import { stepDuration, stepShape, type StepTimeModel } from "../../src/engine/step-latency.ts";
import { makeRequest, streamTokens } from "./helpers.ts";

const model: StepTimeModel = {
  kind: "linear",
  baseMs: 2,
  perPrefillTokenUs: 10,
  perDecodeSeqUs: 50,
  perContextTokenNs: 300,
};

/** A request with `outputs` generated tokens, `computed` of its tokens in the KV cache. */
function entry(
  id: string,
  promptLen: number,
  outputs: number,
  computed: number,
  numNewTokens: number,
): ScheduledRequest {
  const request = makeRequest({ id, promptTokenIds: streamTokens(1, 0, promptLen), blockSize: 16 });
  for (let i = 0; i < outputs; i++) request.appendOutputToken();
  request.numComputedTokens = computed + numNewTokens; // schedule() has already advanced it
  return { request, numNewTokens, numComputedBefore: computed };
}

function output(scheduled: ScheduledRequest[]): SchedulerOutput {
  const total = scheduled.reduce((sum, s) => sum + s.numNewTokens, 0);
  return {
    timestamp: 0,
    scheduled,
    totalNumScheduledTokens: total,
    preempted: [],
    syncLoadRequestIds: [],
    admissions: [],
    promotions: [],
  };
}

describe("stepShape", () => {
  it("counts a request computing its one newest generated token as a decode sequence", () => {
    expect(stepShape(output([entry("d", 20, 3, 22, 1)]))).toEqual({
      numPrefillTokens: 0,
      numDecodeSeqs: 1,
      numPrefillSeqs: 0,
      numContextTokens: 22,
      numAttentionPairs: 23, // the new token attends to the 22 cached ones and to itself
    });
  });

  it("counts prompt chunks, a one-token prompt remainder and re-prefills after preemption as prefill tokens", () => {
    const shape = stepShape(
      output([
        entry("chunk", 100, 0, 32, 32), // a middle chunk of a prompt
        entry("last", 17, 0, 16, 1), // the token left after a full prefix hit
        entry("re", 20, 3, 16, 7), // re-prefill of prompt + outputs after preemption
      ]),
    );
    expect(shape).toEqual({
      numPrefillTokens: 40,
      numDecodeSeqs: 0,
      numPrefillSeqs: 3,
      numContextTokens: 64,
      // chunk 32·32 + 32·33/2, last 1·16 + 1, re 7·16 + 7·8/2
      numAttentionPairs: 1024 + 528 + 17 + 112 + 28,
    });
  });

  it("adds up a mixed batch", () => {
    const shape = stepShape(
      output([entry("d1", 20, 1, 20, 1), entry("d2", 8, 5, 12, 1), entry("p", 50, 0, 0, 50)]),
    );
    expect(shape).toEqual({
      numPrefillTokens: 50,
      numDecodeSeqs: 2,
      numPrefillSeqs: 1,
      numContextTokens: 32,
      numAttentionPairs: 21 + 13 + (50 * 51) / 2,
    });
  });
});

/** A shape with only the fields the linear model reads set. */
function linearShape(numPrefillTokens: number, numDecodeSeqs: number, numContextTokens: number) {
  return {
    numPrefillTokens,
    numDecodeSeqs,
    numContextTokens,
    numPrefillSeqs: 0,
    numAttentionPairs: 0,
  };
}

describe("stepDuration", () => {
  it("is base + prefill tokens + decode sequences + context tokens, in microseconds", () => {
    const us = stepDuration(model, linearShape(100, 4, 1000));
    expect(us).toBe(2000 + 10 * 100 + 50 * 4 + (300 * 1000) / 1000);
  });

  it("rounds to whole microseconds", () => {
    const us = stepDuration(
      { kind: "linear", baseMs: 0, perPrefillTokenUs: 0, perDecodeSeqUs: 0, perContextTokenNs: 1 },
      linearShape(0, 0, 2600),
    );
    expect(us).toBe(3);
  });

  it("lasts at least one microsecond so that simulated time always moves", () => {
    const zero = {
      kind: "linear",
      baseMs: 0,
      perPrefillTokenUs: 0,
      perDecodeSeqUs: 0,
      perContextTokenNs: 0,
    } as const;
    expect(stepDuration(zero, linearShape(5, 0, 0))).toBe(1);
  });
});
