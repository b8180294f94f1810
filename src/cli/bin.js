#!/usr/bin/env node
// Entry point for `pdsim` / `npx pdsim`: runs the TypeScript CLI through tsx's loader, so no build step is needed.
import v8 from "node:v8";
import { register } from "tsx/esm/api";

// V8 may decide, from a few collections, that objects allocated at some site live long and
// allocate them in the old generation from then on. pdsim's objects die young, and the ones it
// moved there kept every young object they pointed to alive until the next full collection: in
// runs where that decision fell, scavenges promoted 2–2.5 times as much (bench-large with --out:
// 3.2–3.4 GB instead of 1.5–1.6 GB, 16.5–17.8 s of pauses instead of 10.3–10.7 s;
// docs/performance.md, change 28).
// V8 checks the flag when it weighs that feedback, after each collection, so setting it here,
// before the simulator loads, is enough: in a run made to fall into that mode every time, it
// brought what scavenges promoted from 322–352 MB down to 129–131 MB.
v8.setFlagsFromString("--no-allocation-site-pretenuring");

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
