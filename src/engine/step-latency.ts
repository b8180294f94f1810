// How long one engine step takes in simulated time: a linear model of the forward pass, standing
// in for the GPU (vLLM has no such module; this is what the simulator adds).

import type { SimTime } from "../../sim/index.ts";
import type { SchedulerOutput } from "./scheduler-output.ts";

export interface StepTimeModel {
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
  /** Tokens already in the KV cache that this step's requests attend to. */
  numContextTokens: number;
}

export function stepShape(output: SchedulerOutput): StepShape {
  let numPrefillTokens = 0;
  let numDecodeSeqs = 0;
  let numContextTokens = 0;
  for (const { request, numNewTokens, numComputedBefore } of output.scheduled) {
    const isDecode =
      numNewTokens === 1 &&
      request.numOutputTokens > 0 &&
      numComputedBefore === request.numTokens - 1;
    if (isDecode) numDecodeSeqs += 1;
    else numPrefillTokens += numNewTokens;
    numContextTokens += numComputedBefore;
  }
  return { numPrefillTokens, numDecodeSeqs, numContextTokens };
}

/** Step duration in microseconds; at least 1 µs so that simulated time always moves. */
export function stepDuration(model: StepTimeModel, shape: StepShape): SimTime {
  const us =
    model.baseMs * 1000 +
    model.perPrefillTokenUs * shape.numPrefillTokens +
    model.perDecodeSeqUs * shape.numDecodeSeqs +
    (model.perContextTokenNs * shape.numContextTokens) / 1000;
  return Math.max(1, Math.round(us));
}
