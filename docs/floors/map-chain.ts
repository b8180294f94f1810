// The V8 behaviour behind src/util/churn-map.ts: a Map whose keys come and go keeps every
// replaced table, and the values in it, alive through scavenges once a full collection has
// promoted one of its tables. Run with `--expose-gc --trace-gc-nvp` and compare the scavenges
// before and after the forced full collection, with a plain Map and with a copy every 1,024
// deletions:
//   node --expose-gc --trace-gc-nvp --import tsx docs/floors/map-chain.ts map
//   node --expose-gc --trace-gc-nvp --import tsx docs/floors/map-chain.ts copied

const copyEvery = process.argv[2] === "copied" ? 1024 : Infinity;
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error("run with --expose-gc");

let map = new Map<number, { id: number; payload: number[] }>();
let id = 0;
let deletions = 0;
let garbage = 0;

function step(): void {
  // Fifty entries in flight, each about 500 bytes, each deleted fifty insertions later.
  map.set(id, { id, payload: new Array<number>(60).fill(id) });
  if (id >= 50 && map.delete(id - 50) && ++deletions % copyEvery === 0) map = new Map(map);
  id++;
  // Short-lived garbage, so that scavenges come often.
  for (let i = 0; i < 20; i++) garbage += [i, i, i].length;
}

for (let i = 0; i < 2_000_000; i++) step();
collect();
for (let i = 0; i < 2_000_000; i++) step();
console.log(`${map.size} entries, ${deletions} deletions (${garbage} garbage elements)`);
