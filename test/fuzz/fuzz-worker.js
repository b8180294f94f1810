// The fuzz worker thread's entry: registers tsx's loader in this thread, as bin.js does for the
// CLI, then loads the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./fuzz-worker.ts");
