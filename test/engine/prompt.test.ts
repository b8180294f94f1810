import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NONE_HASH, hashBlockTokens } from "../../src/engine/block-hash.ts";
import { Prompt } from "../../src/engine/prompt.ts";
import { Request } from "../../src/engine/request.ts";
import { promptTokenIds, tokenAt, keySeed } from "../../src/workload/token-ids.ts";
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

describe("Prompt", () => {
  it("hashes its full blocks once per block size and returns the same hashes after", () => {
    const p = new Prompt(prompt(70, 1));
    const b16 = p.blockHashes(16);
    expect(b16).toEqual(hashesFromScratch(p.tokenIds, 16));
    expect(b16).toHaveLength(4);
    expect(p.blockHashes(16)).toBe(b16);
    expect(p.blockHashes(8)).toEqual(hashesFromScratch(p.tokenIds, 8));
    expect(p.blockHashes(16)).toBe(b16);
  });

  it("reuses a shared prefix's hashes only where they are the same blocks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 80 }),
        fc.constantFrom(4, 8, 16),
        (length, prefixTokens, blockSize) => {
          const shared = new Prompt(promptTokenIds(prefixTokens, "prefix:g"));
          const ids = promptTokenIds(length, "prompt:r", {
            key: "prefix:g",
            tokens: prefixTokens,
            ids: shared.tokenIds,
          });
          const withPrefix = new Prompt(ids, shared);
          expect(withPrefix.blockHashes(blockSize)).toEqual(hashesFromScratch(ids, blockSize));
        },
      ),
      propertyParams,
    );
  });
});

describe("promptTokenIds", () => {
  it("takes the shared prefix's tokens, then the request's own stream from where the prefix ends", () => {
    const ids = promptTokenIds(10, "prompt:r", { key: "prefix:g", tokens: 4 });
    const copied = promptTokenIds(10, "prompt:r", {
      key: "prefix:g",
      tokens: 4,
      ids: promptTokenIds(4, "prefix:g"),
    });
    expect(Array.from(ids)).toEqual([
      ...[0, 1, 2, 3].map((i) => tokenAt(keySeed("prefix:g"), i)),
      ...[4, 5, 6, 7, 8, 9].map((i) => tokenAt(keySeed("prompt:r"), i)),
    ]);
    expect(copied).toEqual(ids);
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
      expect(request.blockHashes).toEqual(hashesFromScratch(all, 16));
    }
  });

  it("leave the shared prompt's hashes untouched", () => {
    const shared = new Prompt(prompt(32, 3));
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
