// Exit codes and bad input, shared by every command: a bad scenario, argument, output
// directory or queue gets one clear message on stderr and exit 2, never a stack trace.

import { SimulationStalled } from "../cluster/cluster.ts";
import { OutputDirError } from "../output/output-dir.ts";
import { ScenarioError } from "../scenario/index.ts";
import { QueueUnreachableError } from "../sweep/queue-url.ts";
import type { CliIo } from "./io.ts";

export const EXIT_OK = 0;
export const EXIT_EXPECTATION_FAILED = 1;
/** The simulated deployment stopped short of its workload (a scheduling deadlock). */
export const EXIT_STALLED = 3;
export const EXIT_BAD_INPUT = 2;

/** A command-line argument that makes no sense. */
export class UsageError extends Error {}

/** Digits only, so that "", "1.5", "1e3", "0x10" and a repeated --seed are all refused. */
export function parseSeed(text: unknown): number {
  const seed = typeof text === "string" && /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed must be a non-negative integer, got '${String(text)}'`);
  }
  return seed;
}

/** Reports `err` and returns exit 2 if it is bad input; rethrows anything else (a bug). */
export function exitForBadInput(io: CliIo, err: unknown): number {
  if (err instanceof ScenarioError) {
    // A file-level issue (unreadable file) has no file:line prefix of its own.
    const prefix = err.issues[0]?.line === 0 ? "pdsim: " : "";
    io.stderr.write(prefix + err.format() + "\n");
    return EXIT_BAD_INPUT;
  }
  if (err instanceof SimulationStalled) {
    io.stderr.write(`pdsim: ${err.message}\n`);
    return EXIT_STALLED;
  }
  if (
    err instanceof OutputDirError ||
    err instanceof UsageError ||
    err instanceof QueueUnreachableError
  ) {
    io.stderr.write(`pdsim: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
  throw err;
}
