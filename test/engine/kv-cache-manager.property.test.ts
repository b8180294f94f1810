// Model-based property of the KV-cache manager and its block pool: random requests (sharing
// prefixes so they hit, in small pools so they evict) are admitted through the prefix cache,
// grown chunk by chunk and token by token, preempted when the pool runs out, re-admitted and
// freed, while a plain list model predicts every free-queue order, reference count and hit.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KVCacheManager } from "../../src/engine/kv-cache-manager.ts";
import type { Request } from "../../src/engine/request.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import { checkAllBlocksFree, checkBlockConservation, makeRequest, prompt } from "./helpers.ts";
import { type PromptShape, promptLength, promptShapeArb, sharedLength } from "./prompt-shape.ts";

type Template = PromptShape;

type Op =
  | { kind: "admit"; template: number; chunk: number; readmit: boolean }
  | { kind: "grow"; pick: number; chunk: number }
  | { kind: "free"; pick: number };

const templateArb = promptShapeArb(5, 4);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("admit" as const),
      template: fc.nat(),
      chunk: fc.nat(),
      readmit: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("grow" as const), pick: fc.nat(), chunk: fc.nat() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
);

interface Case {
  blockSize: number;
  numGpuBlocks: number;
  templates: Template[];
  ops: Op[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  blockSize: fc.constantFrom(2, 3, 4, 16),
  numGpuBlocks: fc.integer({ min: 2, max: 12 }),
  templates: fc.array(templateArb, { minLength: 1, maxLength: 3 }),
  ops: fc.array(opArb, { minLength: 10, maxLength: 40 }),
});

/** The interesting situations a run reached; the test checks the generator reaches each of them. */
interface Reached {
  nBelowB: boolean;
  nMultipleOfB: boolean;
  nMultipleOfBPlusOne: boolean;
  partialHit: boolean;
  fullHit: boolean;
  fullHitWholeLastBlock: boolean;
  eviction: boolean;
  preemption: boolean;
  readmissionHit: boolean;
}

const noneReached = (): Reached => ({
  nBelowB: false,
  nMultipleOfB: false,
  nMultipleOfBPlusOne: false,
  partialHit: false,
  fullHit: false,
  fullHitWholeLastBlock: false,
  eviction: false,
  preemption: false,
  readmissionHit: false,
});

/**
 * The model: free block ids in eviction order, reference counts, the content each block holds
 * (the token prefix it ends, as a string, or null) and each request's blocks. It knows nothing of
 * hashes: content equality is decided on the tokens themselves.
 */
class PoolModel {
  freeList: number[];
  readonly refs: number[];
  readonly content: (string | null)[];
  readonly held = new Map<Request, number[]>();

  constructor(
    numGpuBlocks: number,
    readonly blockSize: number,
  ) {
    this.freeList = Array.from({ length: numGpuBlocks - 1 }, (_, i) => i + 1);
    this.refs = new Array<number>(numGpuBlocks).fill(0);
    this.content = new Array<string | null>(numGpuBlocks).fill(null);
  }

  key(request: Request, blockIndex: number): string {
    return request
      .tokenIds()
      .slice(0, (blockIndex + 1) * this.blockSize)
      .join(",");
  }

  /** The longest run of leading blocks whose content some block holds, capped at ⌊(N−1)/B⌋. */
  expectedHitBlocks(request: Request): number {
    const maxBlocks = Math.floor((request.numTokens - 1) / this.blockSize);
    let i = 0;
    while (i < maxBlocks && this.content.includes(this.key(request, i))) i++;
    return i;
  }

  /** Applies a successful allocation; returns whether it evicted cached content. */
  allocate(
    request: Request,
    hitIds: number[],
    newIds: number[],
    numTokensToCache: number,
  ): boolean {
    const blocks = this.held.get(request) ?? [];
    for (const id of hitIds) {
      if (this.refs[id] === 0) this.freeList = this.freeList.filter((f) => f !== id);
      this.refs[id]! += 1;
      blocks.push(id);
    }
    expect(newIds).toEqual(this.freeList.slice(0, newIds.length)); // LRU: the head goes first
    this.freeList = this.freeList.slice(newIds.length);
    let evicted = false;
    for (const id of newIds) {
      if (this.content[id] !== null) evicted = true;
      this.content[id] = null;
      this.refs[id] = 1;
      blocks.push(id);
    }
    this.held.set(request, blocks);
    const numFull = Math.floor(numTokensToCache / this.blockSize);
    for (let i = 0; i < numFull; i++) {
      const id = blocks[i]!;
      const key = this.key(request, i);
      if (this.content[id] === null) this.content[id] = key;
      else expect(this.content[id]).toBe(key);
    }
    return evicted;
  }

  free(request: Request): void {
    const blocks = this.held.get(request) ?? [];
    this.held.delete(request);
    for (const id of [...blocks].reverse()) {
      this.refs[id]! -= 1;
      if (this.refs[id] === 0) this.freeList.push(id);
    }
  }
}

type Hit = ReturnType<KVCacheManager["getComputedBlocks"]>;

function runCase(c: Case): Reached {
  const B = c.blockSize;
  const kv = new KVCacheManager(c.numGpuBlocks, B, 1 << 20, true);
  const model = new PoolModel(c.numGpuBlocks, B);
  const reached = noneReached();
  const active: Request[] = [];
  const preempted: Request[] = [];
  let created = 0;

  const check = () => {
    checkBlockConservation(kv, model.held.keys());
    expect(kv.blockPool.freeBlockQueue.blockIds()).toEqual(model.freeList);
    for (const [request, blocks] of model.held) expect(kv.getBlockIds(request)).toEqual(blocks);
  };

  const noHit: Hit = { blocks: [], numComputedTokens: 0, numCappedTokens: 0 };
  const allocate = (request: Request, numNewTokens: number, hit: Hit = noHit): boolean => {
    const numNewBlocks = kv.allocateSlots(request, numNewTokens, {
      numNewComputedTokens: hit.numComputedTokens,
      newComputedBlocks: hit.blocks,
    });
    if (numNewBlocks === null) return false;
    const computed = request.numComputedTokens + hit.numComputedTokens + numNewTokens;
    const hitIds = hit.blocks.map((b) => b.blockId);
    const held = kv.getBlockIds(request);
    const newIds = held.slice(held.length - numNewBlocks);
    if (model.allocate(request, hitIds, newIds, Math.min(computed, request.numTokens))) {
      reached.eviction = true;
    }
    request.numComputedTokens = computed;
    return true;
  };

  for (const op of c.ops) {
    if (op.kind === "admit") {
      let request: Request;
      const readmission = op.readmit && preempted.length > 0;
      if (readmission) {
        request = preempted.shift()!;
      } else {
        const t = c.templates[op.template % c.templates.length]!;
        const n = promptLength(t, B);
        const id = `r${created++}`;
        request = makeRequest({
          id,
          promptTokenIds: prompt(n, 100 + created, {
            stream: t.group,
            tokens: sharedLength(t, n, B),
          }),
          blockSize: B,
        });
        if (n < B) reached.nBelowB = true;
        if (n >= B && n % B === 0) reached.nMultipleOfB = true;
        if (n > B && n % B === 1) reached.nMultipleOfBPlusOne = true;
      }
      const n = request.numTokens;
      const hit = kv.getComputedBlocks(request);
      const maxBlocks = Math.floor((n - 1) / B);
      // L is a multiple of B, at most ⌊(N−1)/B⌋·B, and exactly the cached leading run.
      expect(hit.numComputedTokens).toBe(hit.blocks.length * B);
      expect(hit.numComputedTokens).toBeLessThanOrEqual(maxBlocks * B);
      expect(hit.blocks.length).toBe(model.expectedHitBlocks(request));
      hit.blocks.forEach((block, i) =>
        expect(model.content[block.blockId]).toBe(model.key(request, i)),
      );
      if (hit.blocks.length > 0 && hit.blocks.length === maxBlocks) {
        reached.fullHit = true;
        if (n % B === 0) reached.fullHitWholeLastBlock = true;
      } else if (hit.blocks.length > 0) {
        reached.partialHit = true;
      }
      if (readmission && hit.blocks.length > 0) reached.readmissionHit = true;
      const remaining = n - hit.numComputedTokens;
      const ok = allocate(request, 1 + (op.chunk % remaining), hit);
      if (ok) active.push(request);
      else if (readmission) preempted.unshift(request);
    } else if (active.length > 0) {
      const index = op.pick % active.length;
      const request = active[index]!;
      if (op.kind === "free") {
        kv.free(request);
        model.free(request);
        active.splice(index, 1);
      } else {
        // A finished prefill samples a token; the next step computes it.
        if (request.numComputedTokens === request.numTokens) request.appendOutputToken();
        const remaining = request.numTokens - request.numComputedTokens;
        if (!allocate(request, 1 + (op.chunk % remaining))) {
          // Recompute preemption, as the scheduler does it.
          kv.free(request);
          model.free(request);
          request.numComputedTokens = 0;
          request.numPreemptions += 1;
          active.splice(index, 1);
          preempted.push(request);
          reached.preemption = true;
        }
      }
    }
    check();
  }
  for (const request of active) {
    kv.free(request);
    model.free(request);
    check();
  }
  checkAllBlocksFree(kv);
  expect(kv.usage).toBe(0);
  return reached;
}

describe("KVCacheManager under random workloads", () => {
  it("conserves blocks, hits exactly the cached leading blocks, evicts LRU and leaks nothing", () => {
    const runs: Reached[] = [];
    fc.assert(
      fc.property(caseArb, (c) => {
        runs.push(runCase(c));
      }),
      propertyParamsWithRuns(150),
    );
    // The generator must keep reaching every interesting case, or the property proves little.
    expectReached("KVCacheManager workloads", runs, 0.1);
  });
});
