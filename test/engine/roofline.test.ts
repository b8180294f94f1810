import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GPU_PRESETS, GPU_PRESET_NAMES } from "../../src/deployment/gpu-presets.ts";
import { kvBytesPerToken, parameterBreakdown } from "../../src/deployment/model-config.ts";
import { MODEL_PRESETS, MODEL_PRESET_NAMES } from "../../src/deployment/model-presets.ts";
import {
  expertsRead,
  rooflineCosts,
  rooflineTimes,
  weightsReadUs,
  type RooflineCosts,
} from "../../src/engine/roofline.ts";
import { stepDuration, workOf, type StepShape } from "../../src/engine/step-latency.ts";

/** The datasheet's figures at face value and no overhead: the arithmetic below is by hand. */
const ideal = { computeEfficiency: 1, bandwidthEfficiency: 1, overheadMs: 0 };

function costsOf(
  preset: keyof typeof MODEL_PRESETS,
  gpu: keyof typeof GPU_PRESETS,
  tp: number,
  efficiency = ideal,
): RooflineCosts {
  const model = MODEL_PRESETS[preset].config;
  return rooflineCosts({
    model,
    gpu: GPU_PRESETS[gpu],
    tensorParallelSize: tp,
    kvBytesPerToken: kvBytesPerToken(model, "auto"),
    efficiency,
  });
}

function shape(fields: Partial<StepShape>): StepShape {
  return {
    numPrefillTokens: 0,
    numDecodeSeqs: 0,
    numPrefillSeqs: 0,
    numContextTokens: 0,
    numAttentionPairs: 0,
    ...fields,
  };
}

describe("roofline costs from a model's shapes", () => {
  // Llama 3.1 8B: hidden 4,096, MLP 14,336, 32 layers, 32 heads and 8 KV heads of 128,
  // vocabulary 128,256, output head not tied.
  // A layer's attention: q 4,096·4,096 + k and v 2·4,096·1,024 + o 4,096·4,096 = 41,943,040;
  // its MLP: 3·4,096·14,336 = 176,160,768; 32 layers: 6,979,321,856 parameters.
  // The output head: 128,256·4,096 = 525,336,576.
  it("counts Llama 3.1 8B's FLOPs and bytes on one H100", () => {
    const c = costsOf("llama-3.1-8b", "h100-sxm", 1);
    expect(c.flopsPerToken).toBe(2 * 6_979_321_856);
    expect(c.flopsPerSeq).toBe(2 * 525_336_576);
    // Q·K and P·V: 2 FLOPs per element each, 32 layers × 32 heads × (128 + 128) elements.
    expect(c.flopsPerAttentionPair).toBe(2 * 32 * 32 * 256);
    expect(c.denseWeightBytes).toBe((6_979_321_856 + 525_336_576) * 2);
    expect(c.expertBytes).toBe(0);
    expect(c.kvBytesPerToken).toBe(32 * 2 * 8 * 128 * 2); // 131,072
    expect(c.flopsPerUs).toBe(989.5e6);
    expect(c.bytesPerUs).toBe(3.35e6);
  });

  it("times a decode step by its weight and KV reads, and a long prefill by its FLOPs", () => {
    const c = costsOf("llama-3.1-8b", "h100-sxm", 1);
    // One request decoding its token 1,024: the weights (15,009,316,864 bytes) and 1,024 tokens
    // of KV (134,217,728 bytes) over 3.35 TB/s: 4,520.46 µs; its FLOPs take 15.7 µs.
    const decode = shape({ numDecodeSeqs: 1, numContextTokens: 1023, numAttentionPairs: 1024 });
    expect(stepDuration(c, decode)).toBe(4520);
    const { computeUs, memoryUs } = rooflineTimes(c, workOf(decode));
    expect(memoryUs).toBeCloseTo(15_143_534_592 / 3.35e6, 6);
    expect(computeUs).toBeCloseTo((13_958_643_712 + 1_050_673_152 + 524_288 * 1024) / 989.5e6, 6);
    // An 8,192-token prompt: 8,192 tokens × 13,958,643,712 + one output row 1,050,673,152
    // + 8,192·8,193/2 = 33,558,528 pairs × 524,288 FLOPs = 1.3195e14 FLOPs at 989.5 TFLOP/s.
    const prefill = shape({
      numPrefillTokens: 8192,
      numPrefillSeqs: 1,
      numAttentionPairs: 33_558_528,
    });
    const flops = 8192 * 13_958_643_712 + 1_050_673_152 + 33_558_528 * 524_288;
    expect(stepDuration(c, prefill)).toBe(Math.round(flops / 989.5e6));
  });

  it("splits the work over tensor-parallel GPUs, and the KV heads down to one a GPU", () => {
    const one = costsOf("llama-3.1-70b", "h100-sxm", 1);
    const four = costsOf("llama-3.1-70b", "h100-sxm", 4);
    const sixteen = costsOf("llama-3.1-70b", "h100-sxm", 16);
    expect(four.flopsPerToken).toBe(one.flopsPerToken / 4);
    expect(four.denseWeightBytes).toBe(one.denseWeightBytes / 4);
    expect(four.kvBytesPerToken).toBe(one.kvBytesPerToken / 4);
    // 8 KV heads: beyond 8 GPUs each keeps a copy of one head.
    expect(sixteen.kvBytesPerToken).toBe(one.kvBytesPerToken / 8);
  });

  it("keeps MLA's latent whole on every GPU and counts its expanded attention", () => {
    const c = costsOf("deepseek-v3", "h200", 8);
    // 61 layers × (512 + 64) latent × 2 bytes, not divided by 8.
    expect(c.kvBytesPerToken).toBe(61 * 576 * 2);
    // 128 heads × (q·k over 128 + 64, p·v over 128), 2 FLOPs each, over 8 GPUs.
    expect(c.flopsPerAttentionPair).toBe((2 * 61 * 128 * (192 + 128)) / 8);
  });

  it("reads k experts for one token and nearly all of them for a large batch", () => {
    const c = costsOf("qwen3-30b-a3b", "h100-sxm", 1);
    expect(c.experts).toBe(128);
    expect(c.expertsPerToken).toBe(8);
    expect(expertsRead(c, 0)).toBe(0);
    expect(expertsRead(c, 1)).toBeCloseTo(8, 9);
    // Two tokens: 128·(1 − (120/128)²) = 15.5 experts on average.
    expect(expertsRead(c, 2)).toBeCloseTo(15.5, 9);
    expect(expertsRead(c, 1024)).toBeCloseTo(128, 6);
    // A layer's expert: 3 × 2,048 × 768 parameters; 48 MoE layers; 2 bytes each.
    expect(c.expertBytes).toBe(48 * 3 * 2048 * 768 * 2);
  });
});

describe("roofline step time, for every preset model on every preset GPU", () => {
  const dims = [
    "numPrefillTokens",
    "numDecodeSeqs",
    "numPrefillSeqs",
    "numContextTokens",
    "numAttentionPairs",
  ] as const;
  const efficiency = fc.record({
    computeEfficiency: fc.double({ min: 0.05, max: 1, noNaN: true }),
    bandwidthEfficiency: fc.double({ min: 0.05, max: 1, noNaN: true }),
    overheadMs: fc.double({ min: 0, max: 10, noNaN: true }),
  });
  const caseArb = fc.record({
    model: fc.constantFrom(...MODEL_PRESET_NAMES),
    gpu: fc.constantFrom(...GPU_PRESET_NAMES),
    tp: fc.constantFrom(1, 2, 4, 8),
    efficiency,
    shape: fc.record({
      numPrefillTokens: fc.integer({ min: 0, max: 32_768 }),
      numDecodeSeqs: fc.integer({ min: 0, max: 1024 }),
      numPrefillSeqs: fc.integer({ min: 0, max: 64 }),
      numContextTokens: fc.integer({ min: 0, max: 4_000_000 }),
      numAttentionPairs: fc.integer({ min: 0, max: 600_000_000 }),
    }),
    dim: fc.constantFrom(...dims),
    more: fc.integer({ min: 1, max: 100_000 }),
  });

  it("is monotone in every batch dimension and never below the weights' read time", () => {
    const seen = { computeBound: 0, memoryBound: 0, moe: 0, tp: 0 };
    fc.assert(
      fc.property(caseArb, (c) => {
        const costs = costsOf(c.model, c.gpu, c.tp, c.efficiency);
        const before = stepDuration(costs, c.shape);
        const after = stepDuration(costs, { ...c.shape, [c.dim]: c.shape[c.dim] + c.more });
        expect(after).toBeGreaterThanOrEqual(before);
        const tokens = c.shape.numPrefillTokens + c.shape.numDecodeSeqs;
        expect(before).toBeGreaterThanOrEqual(Math.floor(weightsReadUs(costs, tokens)));
        const { computeUs, memoryUs } = rooflineTimes(costs, workOf(c.shape));
        if (computeUs > memoryUs) seen.computeBound += 1;
        else seen.memoryBound += 1;
        if (costs.experts > 0) seen.moe += 1;
        if (c.tp > 1) seen.tp += 1;
      }),
      { numRuns: 400 },
    );
    // The generator reaches both sides of the roofline, mixtures of experts and TP > 1.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(20);
  });
});

describe("FP8 weights in the roofline", () => {
  it("reads DeepSeek-V3's projections and experts at one byte and multiplies them on FP8 tensor cores", () => {
    const h200 = costsOf("deepseek-v3", "h200", 8);
    expect(h200.linearFlopsPerUs).toBe(1979e6);
    expect(h200.flopsPerUs).toBe(989.5e6); // the attention and the output head stay BF16
    // The output head in BF16 (2 bytes × 926,679,040) and the rest at one byte a parameter.
    const p = parameterBreakdown(MODEL_PRESETS["deepseek-v3"].config);
    expect(h200.denseWeightBytes).toBe((2 * 926_679_040 + p.dense) / 8);
    expect(h200.expertBytes).toBe((58 * p.expert) / 8); // 61 layers, the first 3 dense
    // An A100 has no FP8 tensor cores: the multiplies run at its BF16 rate.
    expect(costsOf("deepseek-v3", "a100-80gb", 8).linearFlopsPerUs).toBe(312e6);
  });
});
