// Runs a scenario under the whole invariant catalogue and returns the run with every promise it
// broke (an invariant broken for a subject that promises it).
import { evaluate, violationsOf } from "../../src/check/evaluate.ts";
import { INVARIANTS } from "../../src/check/invariants/index.ts";
import type { Scenario } from "../../src/scenario/types.ts";

export function catalogueRun(scenario: Scenario, seed = 0) {
  const verdict = evaluate(scenario, seed, INVARIANTS);
  const broken = INVARIANTS.flatMap((inv) =>
    inv.promisedBy.flatMap((subject) =>
      violationsOf(verdict, inv.id, subject).map((v) => ({ ...v, id: inv.id })),
    ),
  );
  return { verdict, broken };
}
