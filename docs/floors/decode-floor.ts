// profile-decode's work (3,000 requests of 16 prompt tokens and 1,000 output tokens, 16 running
// at a time) done step by step over parallel arrays instead of request by request through
// objects and maps. Each request-step does what pdsim's does: a token id, the block being
// filled, a new block at each block boundary, a hash and a cached block when a block fills, the
// inter-token latency and the stop check, on the simulator's own BlockPool and hashing. What a
// columnar decode path could cost; compare `pdsim bench-run scenarios/bench/profile-decode.yaml`.
//   npx tsx docs/floors/decode-floor.ts

import { NONE_HASH, hashBlockTokens } from "../../src/engine/block-hash.ts";
import { BlockPool } from "../../src/engine/block-pool.ts";
import { keySeed, tokenAt } from "../../src/workload/token-ids.ts";

const MAX_RUNNING = 16;
const BLOCK_SIZE = 16;
const PROMPT_TOKENS = 16;
const OUTPUT_TOKENS = 1000;
const NUM_REQUESTS = 3000;
const STEP_S = 0.01;

const pool = new BlockPool(4096, true);
// Request i of the running batch is slot i of every array; a finished one is swapped with the last.
const numTokens = new Int32Array(MAX_RUNNING);
const numOutput = new Int32Array(MAX_RUNNING);
const seed = new Uint32Array(MAX_RUNNING);
const lastHash = new Float64Array(MAX_RUNNING);
const lastTokenTs = new Float64Array(MAX_RUNNING);
const partialLength = new Int32Array(MAX_RUNNING);
const partial = new Int32Array(MAX_RUNNING * BLOCK_SIZE);
const blockIds: number[][] = Array.from({ length: MAX_RUNNING }, () => []);
const hashes: number[][] = Array.from({ length: MAX_RUNNING }, () => []);

let running = 0;
let admitted = 0;
let finished = 0;
let steps = 0;
let requestSteps = 0;
let now = 0;
let latencySum = 0;
const interTokenLatencies: number[] = [];
const started = performance.now();
while (finished < NUM_REQUESTS) {
  while (running < MAX_RUNNING && admitted < NUM_REQUESTS) {
    const i = running++;
    seed[i] = keySeed(`out:req-${admitted++}`);
    numTokens[i] = PROMPT_TOKENS;
    numOutput[i] = 0;
    partialLength[i] = 0;
    lastTokenTs[i] = now;
    blockIds[i] = [];
    pool.takeNewBlockIds(1, blockIds[i]!);
    // The prompt's one full block (its token ids do not matter for the cost).
    lastHash[i] = hashBlockTokens(NONE_HASH, partial, 0, BLOCK_SIZE);
    hashes[i] = [lastHash[i]!];
    pool.cacheFullBlockIds(hashes[i]!, 0, blockIds[i]!, 0, 1);
  }
  now += STEP_S;
  steps++;
  interTokenLatencies.length = 0;
  for (let i = 0; i < running; i++) {
    if (numTokens[i]! + 1 > blockIds[i]!.length * BLOCK_SIZE) pool.takeNewBlockIds(1, blockIds[i]!);
    const token = tokenAt(seed[i]!, numOutput[i]!);
    numOutput[i]! += 1;
    numTokens[i]! += 1;
    partial[i * BLOCK_SIZE + partialLength[i]!++] = token;
    if (partialLength[i] === BLOCK_SIZE) {
      lastHash[i] = hashBlockTokens(lastHash[i]!, partial, i * BLOCK_SIZE, BLOCK_SIZE);
      hashes[i]!.push(lastHash[i]!);
      partialLength[i] = 0;
      const n = hashes[i]!.length;
      pool.cacheFullBlockIds(hashes[i]!, 0, blockIds[i]!, n - 1, n);
    }
    interTokenLatencies.push(now - lastTokenTs[i]!);
    lastTokenTs[i] = now;
    requestSteps++;
  }
  for (const latency of interTokenLatencies) latencySum += latency;
  for (let i = running - 1; i >= 0; i--) {
    if (numOutput[i]! < OUTPUT_TOKENS) continue;
    pool.freeBlockIdsTailFirst(blockIds[i]!);
    finished++;
    const last = --running;
    numTokens[i] = numTokens[last]!;
    numOutput[i] = numOutput[last]!;
    seed[i] = seed[last]!;
    lastHash[i] = lastHash[last]!;
    lastTokenTs[i] = lastTokenTs[last]!;
    partialLength[i] = partialLength[last]!;
    partial.copyWithin(i * BLOCK_SIZE, last * BLOCK_SIZE, (last + 1) * BLOCK_SIZE);
    blockIds[i] = blockIds[last]!;
    hashes[i] = hashes[last]!;
  }
}
const ms = performance.now() - started;
console.log(
  `${requestSteps} request-steps in ${steps} steps: ${(ms / 1000).toFixed(2)} s, ` +
    `${((ms * 1000) / requestSteps).toFixed(3)} µs a request-step (mean inter-token latency ` +
    `${(latencySum / requestSteps).toFixed(3)} s)`,
);
