// Each file in scenarios/ is a lesson whose `expect` list pins what its description tells the
// reader to look at: running them all here keeps the lessons true as the simulator changes, the
// way `pdsim run` would judge them, without paying for a child process per scenario.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import {
  type ExpectationResult,
  type SampleLookup,
  checkExpectations,
  describeExpected,
} from "../../src/scenario/expectations.ts";
import { loadScenario } from "../../src/scenario/index.ts";

const SCENARIOS = path.resolve(import.meta.dirname, "../../scenarios");
const files = fs
  .readdirSync(SCENARIOS)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** As `pdsim run` prints a failure, so that the assertion message reads like the CLI. */
function describeFailure(r: ExpectationResult): string {
  const e = r.expectation;
  const actual = r.actual === undefined ? "no such series" : String(r.actual);
  return `${e.instance} ${e.metric}: expected ${describeExpected(e)}, got ${actual}`;
}

describe("the scenario library", () => {
  it("holds at least 12 lessons", () => {
    expect(files.length, files.join(", ")).toBeGreaterThanOrEqual(12);
  });

  for (const file of files) {
    it(`${file} says what to look at and every expectation holds`, () => {
      const scenario = loadScenario(path.join(SCENARIOS, file));
      expect(scenario.description.trim(), "description").not.toBe("");
      expect(scenario.expect.length, "expect entries").toBeGreaterThan(0);

      // The scenario's own seed and profile alone: what `pdsim run` does without flags.
      const cluster = new Cluster(scenario, scenario.seed);
      cluster.run();
      const lookup: SampleLookup = (instance, name, labels) =>
        cluster.instances
          .find((i) => i.name === instance)
          ?.statLoggers.prometheus.sampleValue(name, labels);
      const results = checkExpectations(scenario.expect, lookup);
      const failed = results.filter((r) => !r.passed).map(describeFailure);
      expect(failed, `${failed.length} of ${results.length} expectations failed`).toEqual([]);
    });
  }
});
