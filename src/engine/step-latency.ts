// How long one engine step takes in simulated time, standing in for the GPU (vLLM has no such
// module; this is what the simulator adds): a linear model for teaching scenarios, whose costs
// are stated, or a roofline from the model's shapes and the GPU's datasheet (roofline.ts).

import type { SimTime } from "../../sim/index.ts";
import { type RooflineCosts, rooflineStepUs, type StepWork } from "./roofline.ts";
import type { SchedulerOutput } from "./scheduler-output.ts";

export type StepTimeModel = LinearStepTime | RooflineCosts;

export interface LinearStepTime {
  kind: "linear";
  baseMs: number;
  perPrefillTokenUs: number;
  perDecodeSeqUs: number;
  perContextTokenNs: number;
}

export interface StepShape {
  /** Tokens of requests that are not in steady decode: prompt chunks, re-prefills, the 1-token step after a transfer. */
  numPrefillTokens: number;
  /** Requests computing exactly their one newest generated token. */
  numDecodeSeqs: number;
  /** Requests with prefill tokens in the step. */
  numPrefillSeqs: number;
  /** Tokens already in the KV cache that this step's requests attend to. */
  numContextTokens: number;
  /**
   * Query-key pairs the attention computes: a request's n new tokens after c cached ones each
   * attend to the c and to the new ones before them, n·c + n(n+1)/2.
   */
  numAttentionPairs: number;
}

export function stepShape(output: SchedulerOutput): StepShape {
  let numPrefillTokens = 0;
  let numDecodeSeqs = 0;
  let numPrefillSeqs = 0;
  let numContextTokens = 0;
  let numAttentionPairs = 0;
  for (const { request, numNewTokens, numComputedBefore } of output.scheduled) {
    const isDecode =
      numNewTokens === 1 &&
      request.numOutputTokens > 0 &&
      numComputedBefore === request.numTokens - 1;
    if (isDecode) numDecodeSeqs += 1;
    else {
      numPrefillTokens += numNewTokens;
      numPrefillSeqs += 1;
    }
    numContextTokens += numComputedBefore;
    numAttentionPairs += numNewTokens * numComputedBefore + (numNewTokens * (numNewTokens + 1)) / 2;
  }
  return { numPrefillTokens, numDecodeSeqs, numPrefillSeqs, numContextTokens, numAttentionPairs };
}

/** The step of one request's whole `tokens`-token prompt, with nothing cached. */
export function prefillShape(tokens: number): StepShape {
  return {
    numPrefillTokens: tokens,
    numDecodeSeqs: 0,
    numPrefillSeqs: 1,
    numContextTokens: 0,
    numAttentionPairs: (tokens * (tokens + 1)) / 2,
  };
}

/** The step of `seqs` requests each computing one token after `context` cached ones. */
export function decodeShape(seqs: number, context: number): StepShape {
  return {
    numPrefillTokens: 0,
    numDecodeSeqs: seqs,
    numPrefillSeqs: 0,
    numContextTokens: seqs * context,
    numAttentionPairs: seqs * (context + 1),
  };
}

/** Step duration in microseconds; at least 1 µs so that simulated time always moves. */
export function stepDuration(model: StepTimeModel, shape: StepShape): SimTime {
  const us =
    model.kind === "linear" ? linearStepUs(model, shape) : rooflineStepUs(model, workOf(shape));
  return Math.max(1, Math.round(us));
}

function linearStepUs(model: LinearStepTime, shape: StepShape): number {
  return (
    model.baseMs * 1000 +
    model.perPrefillTokenUs * shape.numPrefillTokens +
    model.perDecodeSeqUs * shape.numDecodeSeqs +
    (model.perContextTokenNs * shape.numContextTokens) / 1000
  );
}

export function workOf(shape: StepShape): StepWork {
  const numTokens = shape.numPrefillTokens + shape.numDecodeSeqs;
  return {
    numTokens,
    numSeqs: shape.numPrefillSeqs + shape.numDecodeSeqs,
    numAttentionPairs: shape.numAttentionPairs,
    numKvTokens: shape.numContextTokens + numTokens,
  };
}
