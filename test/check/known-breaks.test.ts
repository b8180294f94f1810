// The known breaks of docs/INVARIANTS.md, found by search: fast-check draws whole scenarios from
// pdsim's generators until the invariant breaks for the profile, then the counterexample is
// shrunk and simplified, and it must end on exactly the scenario the catalogue lists. No
// scenario is written by hand; the catalogue's table is what the search must find.
import { describe, expect, it } from "vitest";
import { INVARIANTS, invariant } from "../../src/check/invariants/index.ts";
import {
  TOPOLOGIES,
  type Topology,
  scenarioDocArbitrary,
} from "../../src/check/scenario-arbitrary.ts";
import { describeScenario, type ScenarioDoc, scenarioOfDoc } from "../../src/check/scenario-doc.ts";
import { WatchedRun } from "../../src/check/watched-run.ts";
import { findBreak } from "../../src/check/search.ts";
import { isProfile } from "../../src/check/subjects.ts";
import type { ProfileName } from "../../src/accounting/profiles.ts";
import { propertyRuns, propertySeed } from "../support/property.ts";
import { readCatalogue } from "./catalogue-doc.ts";

const { knownBreaks } = readCatalogue();

/** Legs preempted before their first token whose re-admission's e exceeds their first c. */
function grownAnswers(doc: ScenarioDoc): number {
  const scenario = scenarioOfDoc(doc);
  const run = new WatchedRun(scenario, scenario.seed);
  run.run();
  return run.outputs.records
    .flatMap((r) => r.legs)
    .filter((l) => l.num_preemptions > 0 && l.num_external_computed_tokens > l.num_cached_tokens)
    .length;
}
const PD_TOPOLOGIES: readonly Topology[] = TOPOLOGIES.filter(
  (t) => t !== "unified" && t !== "mixed",
);

describe("known breaks", () => {
  it("lists every invariant a profile is checked for but does not promise, once over every topology", () => {
    const expected = INVARIANTS.flatMap((inv) =>
      inv.subjects
        .filter((s) => isProfile(s) && !inv.promisedBy.includes(s))
        .map((s) => `${s} ${inv.id}`),
    ).sort();
    const listed = knownBreaks
      .filter((row) => row.drawnFrom === "every topology")
      .map((row) => `${row.profile} ${row.id}`)
      .sort();
    expect(listed).toEqual(expected);
  });

  for (const row of knownBreaks) {
    it(`${row.profile} breaks ${row.id} (${row.drawnFrom}): ${row.counterexample}`, () => {
      const pdOnly = row.drawnFrom === "P/D topologies";
      const tiered = row.drawnFrom === "unified with a tier";
      const numRuns = propertyRuns(300);
      const topologies = pdOnly ? PD_TOPOLOGIES : tiered ? (["unified"] as const) : TOPOLOGIES;
      const found = findBreak(
        scenarioDocArbitrary(row.profile as ProfileName, topologies, tiered ? "always" : "maybe"),
        invariant(row.id),
        row.profile as ProfileName,
        { seed: propertySeed, numRuns, minimize: { keepRoles: pdOnly } },
      );
      expect(
        found,
        `no break of ${row.id} for ${row.profile} in ${numRuns} scenarios drawn with seed ${propertySeed}`,
      ).not.toBeNull();
      expect(describeScenario(scenarioOfDoc(found!.doc))).toBe(row.counterexample);
      // The coverage floor of the tier paths: within these draws the generator reached a request
      // preempted before its first token whose connector answer grew past c.
      if (tiered) expect(grownAnswers(found!.doc)).toBeGreaterThan(0);
    });
  }
});
