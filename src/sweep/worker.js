// A sweep's worker thread (piscina): runs one run a task. Like bin.js, it loads the TypeScript
// through tsx's loader, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { runOne } = await import("./run-one.ts");

export default function run({ spec, collect }) {
  return runOne(spec, collect, () => performance.now());
}
