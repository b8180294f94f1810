import { describe, expect, it } from "vitest";
import { KVCacheManager } from "../../src/engine/kv-cache-manager.ts";
import { Prompt } from "../../src/engine/prompt.ts";
import type { Request } from "../../src/engine/request.ts";
import { checkBlockConservation, makeRequest, prompt, streamTokens } from "./helpers.ts";

const B = 16;

function manager(numGpuBlocks = 32, enableCaching = true): KVCacheManager {
  return new KVCacheManager(numGpuBlocks, B, 4096, enableCaching);
}

/** Admits a request the way the scheduler's waiting branch does, computing `numNewTokens` after the hit. */
function admit(kv: KVCacheManager, request: Request, numNewTokens?: number): number {
  const hit = kv.getComputedBlocks(request);
  const n = numNewTokens ?? request.numTokens - hit.numComputedTokens;
  const blocks = kv.allocateSlots(request, n, {
    numNewComputedTokens: hit.numComputedTokens,
    newComputedBlocks: hit.blocks,
  });
  if (blocks === null) throw new Error(`admit(${request.requestId}): no blocks`);
  request.numComputedTokens = hit.numComputedTokens + n;
  return hit.numComputedTokens;
}

function hitOf(kv: KVCacheManager, id: string, tokens: number[]): number {
  return kv.getComputedBlocks(makeRequest({ id, promptTokenIds: tokens, blockSize: B }))
    .numComputedTokens;
}

describe("KVCacheManager.getComputedBlocks", () => {
  it("recomputes the whole last block on a full hit when N is a multiple of B (N = 32 → L = 16)", () => {
    const kv = manager();
    const tokens = streamTokens(1, 0, 32);
    admit(kv, makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B }));
    expect(kv.blockPool.getNumCachedBlocks()).toBe(2);
    expect(hitOf(kv, "b", tokens)).toBe(16);
  });

  it("hits every full block when one token is left over (N = 33 → L = 32)", () => {
    const kv = manager();
    const tokens = streamTokens(1, 0, 33);
    admit(kv, makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B }));
    expect(hitOf(kv, "b", tokens)).toBe(32);
  });

  it("never hits a prompt shorter than one block (N = 10 → L = 0)", () => {
    const kv = manager();
    admit(kv, makeRequest({ id: "a", promptTokenIds: streamTokens(1, 0, 40), blockSize: B }));
    expect(hitOf(kv, "b", streamTokens(1, 0, 10))).toBe(0);
    expect(hitOf(kv, "c", streamTokens(1, 0, 16))).toBe(0); // N − 1 = 15 < B as well
    expect(hitOf(kv, "d", streamTokens(1, 0, 17))).toBe(16);
  });

  it("never hits on a shared prefix shorter than one block", () => {
    const kv = manager();
    admit(
      kv,
      makeRequest({
        id: "a",
        promptTokenIds: prompt(40, 1, { stream: 9, tokens: 15 }),
        blockSize: B,
      }),
    );
    expect(hitOf(kv, "b", prompt(40, 2, { stream: 9, tokens: 15 }))).toBe(0);
  });

  it("does not cache the partial last block, so a shared prefix hits only its full blocks", () => {
    const kv = manager();
    admit(
      kv,
      makeRequest({
        id: "a",
        promptTokenIds: prompt(40, 1, { stream: 9, tokens: 40 }),
        blockSize: B,
      }),
    );
    expect(kv.blockPool.getNumCachedBlocks()).toBe(2);
    // b shares all 40 tokens of a and more: the 8 tokens in a's partial block 2 never hit.
    expect(hitOf(kv, "b", prompt(60, 2, { stream: 9, tokens: 40 }))).toBe(32);
  });

  it("stops at the first block whose prefix differs, even if later blocks hold equal tokens", () => {
    const kv = manager();
    const a = streamTokens(1, 0, 49);
    admit(kv, makeRequest({ id: "a", promptTokenIds: a, blockSize: B }));
    const b = [...a];
    b[20] = -5; // block 1 differs; blocks 0 and 2 hold the same tokens as a's
    expect(hitOf(kv, "b", b)).toBe(16);
    const c = [...a];
    c[0] = -5; // block 0 differs: blocks 1 and 2 chain onto another parent
    expect(hitOf(kv, "c", c)).toBe(0);
  });

  it("returns no hit when prefix caching is disabled", () => {
    const kv = manager(32, false);
    const tokens = streamTokens(1, 0, 33);
    admit(kv, makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B }));
    expect(kv.blockPool.getNumCachedBlocks()).toBe(0);
    expect(hitOf(kv, "b", tokens)).toBe(0);
  });
});

describe("KVCacheManager.numCachedPrefixTokens", () => {
  it("answers the L getComputedBlocks finds, N − 1 cap included, for prompts of every length", () => {
    for (const enableCaching of [true, false]) {
      const kv = manager(32, enableCaching);
      const tokens = streamTokens(1, 0, 64);
      admit(kv, makeRequest({ id: "a", promptTokenIds: tokens.slice(0, 49), blockSize: B }));
      for (const n of [1, 10, 16, 17, 32, 33, 48, 49, 50, 64]) {
        const request = makeRequest({
          id: `p${n}`,
          promptTokenIds: tokens.slice(0, n),
          blockSize: B,
        });
        const probed = kv.numCachedPrefixTokens(Prompt.of(tokens.slice(0, n)));
        expect([n, probed]).toEqual([n, kv.getComputedBlocks(request).numComputedTokens]);
      }
      if (enableCaching) expect(kv.numCachedPrefixTokens(Prompt.of(tokens.slice(0, 33)))).toBe(32);
    }
  });

  it("takes, touches and counts nothing: the free queue, reference counts and stats stay as they were", () => {
    const kv = manager(8);
    const tokens = streamTokens(1, 0, 49);
    const a = makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B });
    const b = makeRequest({ id: "b", promptTokenIds: streamTokens(2, 0, 40), blockSize: B });
    admit(kv, a);
    admit(kv, b);
    kv.free(a); // a's cached blocks are evictable, in the free queue; b's are held
    kv.makePrefixCacheStats();
    const pool = kv.blockPool;
    const state = () => ({
      free: pool.freeBlockQueue.blockIds(),
      refCnts: pool.blocks.map((block) => block.refCnt),
      cached: pool.getNumCachedBlocks(),
      usage: kv.usage,
    });
    const before = state();
    expect(kv.numCachedPrefixTokens(Prompt.of(tokens))).toBe(48);
    expect(kv.numCachedPrefixTokens(Prompt.of(streamTokens(2, 0, 40)))).toBe(32);
    expect(state()).toEqual(before);
    const stats = kv.makePrefixCacheStats();
    expect([stats.requests, stats.queries, stats.hits]).toEqual([0, 0, 0]);
    checkBlockConservation(kv, [b]);
  });
});

describe("KVCacheManager.allocateSlots", () => {
  it("caches a block when the step that fills it is scheduled, not before", () => {
    const kv = manager();
    const a = makeRequest({ id: "a", promptTokenIds: streamTokens(1, 0, 40), blockSize: B });
    admit(kv, a, 20);
    expect(kv.blockPool.getNumCachedBlocks()).toBe(1);
    expect(kv.getBlockIds(a)).toHaveLength(2);
    expect(kv.allocateSlots(a, 12)).not.toBeNull();
    expect(kv.blockPool.getNumCachedBlocks()).toBe(2);
  });

  it("caches blocks filled by generated tokens like prompt blocks", () => {
    const kv = manager();
    const a = makeRequest({ id: "a", promptTokenIds: streamTokens(1, 0, 10), blockSize: B });
    admit(kv, a);
    for (let i = 0; i < 7; i++) {
      a.appendOutputToken();
      expect(kv.allocateSlots(a, 1)).not.toBeNull();
      a.numComputedTokens += 1;
    }
    // a now holds 10 prompt + 7 output tokens; the first 16 of them form a cached block.
    expect(kv.blockPool.getNumCachedBlocks()).toBe(1);
    expect(hitOf(kv, "b", [...a.tokenIds().slice(0, 16), 42])).toBe(16);
  });

  it("caches prompt and output blocks in one pass, from wherever the local hit ends", () => {
    // A request re-admitted after generating 40 tokens: 80 tokens, 2 full prompt blocks and 3
    // full output blocks, whose hashes the request keeps apart.
    for (const cachedPrefix of [0, 20, 40]) {
      const kv = manager();
      const tokens = streamTokens(1, 0, 40);
      if (cachedPrefix > 0) {
        admit(
          kv,
          makeRequest({ id: "p", promptTokenIds: tokens.slice(0, cachedPrefix), blockSize: B }),
        );
      }
      const a = makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B });
      for (let i = 0; i < 40; i++) a.appendOutputToken();
      expect(admit(kv, a)).toBe(Math.floor(cachedPrefix / B) * B);
      expect(hitOf(kv, "b", [...a.tokenIds(), 42])).toBe(80);
      expect(hitOf(kv, "c", [...a.tokenIds().slice(0, 64), 43, 44])).toBe(64);
    }
  });

  it("counts a hit on an evictable block as a free block it will use", () => {
    const kv = manager(4); // 3 usable blocks
    const tokens = streamTokens(1, 0, 33);
    const a = makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B });
    admit(kv, a);
    kv.free(a); // free queue: a's partial block, a1, a0
    const x = makeRequest({ id: "x", promptTokenIds: streamTokens(2, 0, 5), blockSize: B });
    admit(kv, x); // evicts a's partial block; a0 and a1 are the only free blocks
    const b = makeRequest({ id: "b", promptTokenIds: tokens, blockSize: B });
    const hit = kv.getComputedBlocks(b);
    expect(hit.numComputedTokens).toBe(32);
    // b needs a0, a1 back plus one new block: 3 > 2 free.
    expect(
      kv.allocateSlots(b, 1, { numNewComputedTokens: 32, newComputedBlocks: hit.blocks }),
    ).toBeNull();
    checkBlockConservation(kv, [x]);
    kv.free(x);
    expect(
      kv.allocateSlots(b, 1, { numNewComputedTokens: 32, newComputedBlocks: hit.blocks }),
    ).toBe(1);
    checkBlockConservation(kv, [b]);
  });

  it("with fullSequenceMustFit, refuses a first chunk that fits when the whole sequence does not", () => {
    const kv = manager(4); // 3 usable blocks = 48 tokens
    const a = makeRequest({ id: "a", promptTokenIds: streamTokens(1, 0, 60), blockSize: B });
    expect(kv.allocateSlots(a, 16, { fullSequenceMustFit: true })).toBeNull();
    expect([kv.getBlockIds(a).length, kv.numRequestsWithBlocks]).toEqual([0, 0]);
    expect(kv.allocateSlots(a, 16)).toBe(1);
  });

  it("frees a request's blocks tail first, so its cached prefix is evicted from the tail", () => {
    const kv = manager(5); // 4 usable blocks
    const tokens = streamTokens(1, 0, 49);
    const a = makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B });
    admit(kv, a);
    const [a0, a1, a2, a3] = kv.getBlockIds(a);
    kv.free(a);
    expect(kv.blockPool.freeBlockQueue.blockIds()).toEqual([a3, a2, a1, a0]);
    const x = makeRequest({ id: "x", promptTokenIds: streamTokens(2, 0, 17), blockSize: B });
    admit(kv, x); // takes a3 (uncached) and a2 (a's third cached block)
    expect(hitOf(kv, "b", tokens)).toBe(32);
  });

  it("keeps track of the requests holding blocks as they come and go, in any order", () => {
    const kv = manager(32);
    const held = (): number[] => [...kv.blockHolders().keys()].map((b) => b.blockId);
    const [a, b, c, d] = ["a", "b", "c", "d"].map((id, i) =>
      makeRequest({ id, promptTokenIds: streamTokens(i + 1, 0, 20), blockSize: B }),
    );
    for (const r of [a!, b!, c!]) admit(kv, r);
    expect(kv.numRequestsWithBlocks).toBe(3);
    const blocksOf = (r: Request) => [...kv.getBlockIds(r)];
    const [ofA, ofB, ofC] = [blocksOf(a!), blocksOf(b!), blocksOf(c!)];
    expect(held()).toEqual([...ofA, ...ofB, ...ofC]);
    kv.free(b!); // from the middle
    expect(held()).toEqual([...ofA, ...ofC]);
    kv.free(a!); // the first
    admit(kv, d!);
    expect(held()).toEqual([...ofC, ...blocksOf(d!)]);
    kv.free(d!); // the last
    kv.free(c!);
    expect([kv.numRequestsWithBlocks, held().length, kv.getBlockIds(c!).length]).toEqual([0, 0, 0]);
    b!.numComputedTokens = 0; // as a preemption leaves it
    admit(kv, b!);
    expect(kv.numRequestsWithBlocks).toBe(1);
    expect(held()).toEqual(blocksOf(b!));
  });

  it("returns every block when the request is freed, whatever it shared", () => {
    const kv = manager(16);
    const tokens = streamTokens(1, 0, 50);
    const a = makeRequest({ id: "a", promptTokenIds: tokens, blockSize: B });
    const b = makeRequest({ id: "b", promptTokenIds: tokens, blockSize: B });
    admit(kv, a);
    expect(admit(kv, b)).toBe(48);
    checkBlockConservation(kv, [a, b]);
    kv.free(a);
    checkBlockConservation(kv, [b]);
    kv.free(b);
    checkBlockConservation(kv, []);
    expect(kv.usage).toBe(0);
    expect(kv.numRequestsWithBlocks).toBe(0);
  });
});

describe("KVCacheManager prefix-cache stats", () => {
  it("counts queries and hits per admission and keeps preempted re-admissions apart", () => {
    const kv = manager();
    const r = makeRequest({ id: "a", promptTokenIds: streamTokens(1, 0, 40), blockSize: B });
    kv.recordPrefixCacheStats(r, 32);
    r.numPreemptions = 1;
    kv.recordPrefixCacheStats(r, 16);
    const stats = kv.makePrefixCacheStats();
    expect([stats.requests, stats.queries, stats.hits]).toEqual([1, 40, 32]);
    expect([stats.preemptedRequests, stats.preemptedQueries, stats.preemptedHits]).toEqual([
      1, 40, 16,
    ]);
    const next = kv.makePrefixCacheStats();
    expect([next.requests, next.queries, next.hits, next.preemptedRequests]).toEqual([0, 0, 0, 0]);
  });
});
