// Invariants about a run as a whole: it completes, and it can be reproduced exactly.

import type { Invariant } from "./types.ts";

export const runCompletes: Invariant = {
  id: "run-completes",
  statement:
    "The run drains without an internal error: no stall, and the ledger's computed tokens match N − L − external for every prefill.",
  level: "run",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => {
    const error = run.outputs.error;
    return error === null ? [] : [{ subject: "simulator", where: "run", message: error }];
  },
};

export const sameSeedSameOutputs: Invariant = {
  id: "same-seed-same-outputs",
  statement:
    "The same scenario and seed give identical outputs: every record, log line and exposition sample.",
  level: "run",
  subjects: ["simulator"],
  promisedBy: ["simulator"],
  watch: (run) => () => {
    const first = run.digest();
    const again = run.rerunDigest();
    if (first === again) return [];
    return [
      {
        subject: "simulator",
        where: "run",
        message: `two runs with seed ${run.seed} differ (digests ${first.slice(0, 12)} and ${again.slice(0, 12)})`,
      },
    ];
  },
};

export const RUN_INVARIANTS: readonly Invariant[] = [runCompletes, sameSeedSameOutputs];
