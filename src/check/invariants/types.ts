// The shape of one catalogue entry (INVARIANTS.md lists them all): what it says, where it
// holds, who promises it, and the checker that watches one run.

import type { WatchedRun } from "../watched-run.ts";
import type { Subject } from "../subjects.ts";

export type Level = "request" | "instance" | "cluster" | "run";

export interface Violation {
  subject: Subject;
  /** The request, instance or link it happened on, for the report. */
  where: string;
  /** The request to replay with `pdsim explain`, when there is one. */
  requestId?: string;
  message: string;
}

export interface Invariant {
  readonly id: string;
  /** One sentence, as INVARIANTS.md states it. */
  readonly statement: string;
  readonly level: Level;
  /** Whose numbers it is checked against. */
  readonly subjects: readonly Subject[];
  /** The subjects that promise it; a break in any other is a known departure of that version. */
  readonly promisedBy: readonly Subject[];
  /**
   * Starts watching a run before it starts; the returned function, called once the run has
   * ended, gives every violation it saw.
   */
  watch(run: WatchedRun): () => Violation[];
}
