import { BlockPool } from "./src/engine/block-pool.ts";
const pools = Array.from({ length: 8 }, () => new BlockPool(16384, true));
let x = 12345;
function rnd() { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x; }
const hs: number[] = [];
for (let i = 0; i < 64; i++) hs.push(0);
for (let rep = 0; rep < 4; rep++) {
  const live: any[][][] = pools.map(() => []);
  let tGet = 0, tCache = 0, tFree = 0, n = 0;
  for (let r = 0; r < 50000; r++) {
    const p = r % 8; const pool = pools[p]!;
    for (let i = 0; i < 64; i++) hs[i] = (rnd() & 0x1fffff) * 2 ** 32 + rnd();
    let t = performance.now();
    const blocks = pool.getNewBlocks(64);
    tGet += performance.now() - t; t = performance.now();
    pool.cacheFullBlocks(hs, blocks, 0, 64);
    tCache += performance.now() - t; t = performance.now();
    live[p]!.push(blocks);
    if (live[p]!.length > 100) pool.freeBlocksTailFirst(live[p]!.shift()!);
    tFree += performance.now() - t;
    n += 64;
  }
  pools.forEach((pool, p) => { for (const b of live[p]!) pool.freeBlocksTailFirst(b); });
  console.log("ns/block get", (tGet * 1e6) / n, "cache", (tCache * 1e6) / n, "free", (tFree * 1e6) / n);
}
