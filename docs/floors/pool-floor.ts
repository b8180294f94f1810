// The block-pool work of bench-large alone: both legs' prefix-cache lookups, allocations,
// caching and frees (about 64 blocks a leg, about 60 legs in flight, as in bench-medium), on
// the simulator's own BlockPool and Prompt. What no tuning of the rest can take below.
//   npx tsx docs/floors/pool-floor.ts [requests, default 1000000]

import { BlockPool, type KVCacheBlock } from "../../src/engine/block-pool.ts";
import { Prompt } from "../../src/engine/prompt.ts";
import { promptTokenAt } from "../../src/workload/token-ids.ts";

const numRequests = Number(process.argv[2] ?? 1_000_000);
const BLOCK_SIZE = 16;
const pools = Array.from({ length: 8 }, () => new BlockPool(16_384, true));
const groups = Array.from({ length: 16 }, (_, g) =>
  Prompt.generated(512, promptTokenAt(`group-${g}`)),
);
// A fixed linear congruential stream: the same prompts every run.
let state = 1;
const uniform = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;

const inFlight: { pool: BlockPool; ids: number[] }[] = [];
let hashingMs = 0;
const started = performance.now();
for (let i = 0; i < numRequests; i++) {
  // Roughly bench-large's prompts: about 1,024 tokens, spread, half behind a system prompt.
  const length = Math.min(
    8192,
    Math.max(16, Math.round(1024 * Math.exp(0.7 * (uniform() * 2 - 1)))),
  );
  const group = uniform() < 0.5 ? groups[Math.floor(uniform() * 16)]! : null;
  const hashingStarted = performance.now();
  const prefix = group === null ? undefined : { key: "group", tokens: 512 };
  const prompt = Prompt.generated(length, promptTokenAt(`req-${i}`, prefix), group);
  const hashes = prompt.blockHashes(BLOCK_SIZE);
  hashingMs += performance.now() - hashingStarted;
  for (const pool of [pools[i % 4]!, pools[4 + (i % 4)]!]) {
    const hits: KVCacheBlock[] = [];
    for (let b = 0; b < hashes.length - 1; b++) {
      const block = pool.getCachedBlock(hashes[b]!);
      if (block === null) break;
      hits.push(block);
    }
    pool.touch(hits);
    const ids = hits.map((block) => block.blockId);
    pool.takeNewBlockIds(Math.ceil(length / BLOCK_SIZE) - hits.length, ids);
    pool.cacheFullBlockIds(hashes, 0, ids, hits.length, hashes.length);
    inFlight.push({ pool, ids });
  }
  while (inFlight.length > 60) {
    const leg = inFlight.shift()!;
    leg.pool.freeBlockIdsTailFirst(leg.ids);
  }
}
const ms = performance.now() - started;
console.log(
  `${numRequests} requests: ${(ms / 1000).toFixed(2)} s (block pools ${((ms - hashingMs) / 1000).toFixed(2)} s, ` +
    `hashing ${(hashingMs / 1000).toFixed(2)} s), ${((ms * 1000) / numRequests).toFixed(1)} µs a request`,
);
