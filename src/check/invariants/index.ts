// The invariant catalogue: every entry of INVARIANTS.md, in its order, each implemented once.

import { CLUSTER_INVARIANTS } from "./cluster-level.ts";
import { INSTANCE_INVARIANTS } from "./instance-level.ts";
import { REQUEST_INVARIANTS } from "./request-level.ts";
import { RUN_INVARIANTS } from "./run-level.ts";
import type { Invariant } from "./types.ts";

export type { Invariant, Level, Violation } from "./types.ts";

export const INVARIANTS: readonly Invariant[] = [
  ...REQUEST_INVARIANTS,
  ...INSTANCE_INVARIANTS,
  ...CLUSTER_INVARIANTS,
  ...RUN_INVARIANTS,
];

/** The catalogue entry with this id; throws for an id the catalogue lacks. */
export function invariant(id: string): Invariant {
  const found = INVARIANTS.find((i) => i.id === id);
  if (found === undefined) throw new Error(`no invariant '${id}' in the catalogue`);
  return found;
}
