import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NONE_HASH, hashBlockTokens } from "../../src/engine/block-hash.ts";
import { Prompt } from "../../src/engine/prompt.ts";
import { Request } from "../../src/engine/request.ts";
import { VOCAB_SIZE, keySeed, promptTokenAt, tokenAt } from "../../src/workload/token-ids.ts";
import { propertyParams } from "../support/property.ts";
import { makeRequest, outputIds, prompt } from "./helpers.ts";

/** The chained hashes of every full block, computed from scratch. */
function hashesFromScratch(tokens: ArrayLike<number>, blockSize: number): number[] {
  const hashes: number[] = [];
  for (let i = 0; (i + 1) * blockSize <= tokens.length; i++) {
    hashes.push(hashBlockTokens(hashes[i - 1] ?? NONE_HASH, tokens, i * blockSize, blockSize));
  }
  return hashes;
}

/** The first `length` tokens of `promptTokenAt(ownKey, prefix)`, as an array. */
function promptTokenIds(
  length: number,
  ownKey: string,
  prefix?: { key: string; tokens: number },
): Int32Array {
  const at = promptTokenAt(ownKey, prefix);
  return Int32Array.from({ length }, (_, i) => at(i));
}

describe("Prompt", () => {
  it("hashes its full blocks once per block size and returns the same hashes after", () => {
    const p = Prompt.of(prompt(70, 1));
    const b16 = p.blockHashes(16);
    expect(b16).toEqual(hashesFromScratch(p.tokenIds(), 16));
    expect(b16).toHaveLength(4);
    expect(p.blockHashes(16)).toBe(b16);
    expect(p.blockHashes(8)).toEqual(hashesFromScratch(p.tokenIds(), 8));
    expect(p.blockHashes(16)).toBe(b16);
  });

  it("a generated prompt has the same tokens and hashes as the same ids stored, with or without a shared prefix", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 80 }),
        fc.constantFrom(4, 8, 16, 32),
        (length, prefixTokens, blockSize) => {
          const prefix = { key: "prefix:g", tokens: prefixTokens };
          const ids = promptTokenIds(length, "prompt:r", prefix);
          const shared = Prompt.generated(prefixTokens, promptTokenAt("prefix:g"));
          const generated = Prompt.generated(length, promptTokenAt("prompt:r", prefix), shared);
          expect(generated.tokenIds()).toEqual(ids);
          expect(generated.tokenId(length - 1)).toBe(ids[length - 1]);
          expect(generated.blockHashes(blockSize)).toEqual(hashesFromScratch(ids, blockSize));
          expect(Prompt.of(ids, shared).blockHashes(blockSize)).toEqual(
            hashesFromScratch(ids, blockSize),
          );
        },
      ),
      propertyParams,
    );
  });
});

describe("tokenAt", () => {
  it("is the 32-bit hash of seed and position modulo the vocabulary size", () => {
    const reference = (seed: number, position: number): number => {
      let h = Math.imul(seed ^ Math.imul(position + 1, 0x9e3779b1), 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return (h >>> 0) % VOCAB_SIZE;
    };
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 1 << 20 }), (seed, position) => {
        expect(tokenAt(seed, position)).toBe(reference(seed, position));
      }),
      { ...propertyParams, numRuns: 5000 },
    );
  });
});

describe("promptTokenAt", () => {
  it("takes the shared prefix's tokens, then the request's own stream from where the prefix ends", () => {
    const ids = promptTokenIds(10, "prompt:r", { key: "prefix:g", tokens: 4 });
    expect(Array.from(ids)).toEqual([
      ...[0, 1, 2, 3].map((i) => tokenAt(keySeed("prefix:g"), i)),
      ...[4, 5, 6, 7, 8, 9].map((i) => tokenAt(keySeed("prompt:r"), i)),
    ]);
    expect(promptTokenIds(3, "prompt:r", { key: "prefix:g", tokens: 4 })).toEqual(ids.slice(0, 3));
  });
});

describe("Request block hashes", () => {
  it("hash output tokens on top of the prompt's blocks exactly as hashing every token would", () => {
    for (const length of [1, 15, 16, 17, 40]) {
      const request = makeRequest({
        id: `r${length}`,
        promptTokenIds: prompt(length, 2),
        blockSize: 16,
      });
      for (let i = 0; i < 50; i++) request.appendOutputToken();
      const all = request.tokenIds();
      expect(all).toHaveLength(length + 50);
      expect(all.slice(0, length)).toEqual(prompt(length, 2));
      const expected = hashesFromScratch(all, 16);
      expect(request.blockHashes).toEqual(expected);
      expect(request.numBlockHashes).toBe(expected.length);
      expect(expected.map((_, i) => request.blockHash(i))).toEqual(expected);
      expect([...request.promptBlockHashes, ...request.outputBlockHashes]).toEqual(expected);
    }
  });

  it("leave the shared prompt's hashes untouched", () => {
    const shared = Prompt.of(prompt(32, 3));
    const before = [...shared.blockHashes(16)];
    const request = new Request({
      requestId: "r",
      prompt: shared,
      maxTokens: 20,
      outputTokenId: outputIds("r"),
      arrivalTime: 0,
      blockSize: 16,
    });
    for (let i = 0; i < 20; i++) request.appendOutputToken();
    expect(shared.blockHashes(16)).toEqual(before);
    expect(request.blockHashes).toHaveLength(3);
  });
});
