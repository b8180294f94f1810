#!/usr/bin/env node
// Entry point for `pdsim` / `npx pdsim`: runs the TypeScript CLI through tsx's loader, so no build step is needed.
import v8 from "node:v8";
import { register } from "tsx/esm/api";

// V8 may decide, from a few collections, that objects allocated at some site live long and
// allocate them in the old generation from then on. pdsim's objects die young, and the ones it
// moves there keep every young object they point to alive until the next full collection, so
// scavenges promote twice as much or more (docs/performance.md, change 28). V8 checks the flag
// when it weighs that feedback, after each collection, so setting it here, before the simulator
// loads, is enough.
v8.setFlagsFromString("--no-allocation-site-pretenuring");

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
