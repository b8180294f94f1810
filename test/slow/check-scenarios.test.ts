// `pdsim check` over the scenario library with each scenario's own (default) profile: the
// scenarios and perturbations of them break nothing the truth, current vLLM or the simulator
// promises. A few runs each: the generator properties search wider.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { anyBroken, checkScenario } from "../../src/check/check.ts";
import { checkBase } from "../../src/check/perturb.ts";
import { DEFAULT_PROFILE } from "../../src/accounting/profiles.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { REPO } from "../check/catalogue-doc.ts";

const SCENARIOS = path.join(REPO, "scenarios");
const files = fs
  .readdirSync(SCENARIOS)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("pdsim check on every scenario in scenarios/", () => {
  it("finds the library", () => expect(files.length).toBeGreaterThanOrEqual(14));

  for (const name of files) {
    it(`${name}: every invariant held`, () => {
      const file = path.join(SCENARIOS, name);
      const scenario = loadScenario(file);
      expect(scenario.metrics.profile).toBe(DEFAULT_PROFILE);
      // The dashboard workload (thousands of requests) and the traces (long prompts) are
      // checked as written only: each run costs seconds under the catalogue's per-step watch.
      const w = scenario.workload;
      const runs = (w.kind === "generated" && w.num_requests > 1000) || w.kind === "trace" ? 1 : 4;
      const doc = parse(fs.readFileSync(file, "utf8"));
      // A trace's first 100 requests: the catalogue's per-step watch of hundreds of
      // 12,000-token prompts costs minutes (test/workload/ checks trace-driven runs whole).
      if (w.kind === "trace") doc.workload.trace.max_requests = 100;
      const report = checkScenario(checkBase(doc, scenario), {
        profile: scenario.metrics.profile,
        runs,
        seed: scenario.seed,
      });
      const broken = report.rows
        .filter((r) => r.broken > 0)
        .map((r) => `${r.invariant.id}/${r.subject}: ${r.counterexample?.violation.message}`);
      expect(broken).toEqual([]);
      expect(anyBroken(report)).toBe(false);
      // Every row was checked on every run: none stopped early.
      expect(report.rows.every((r) => r.runs === runs)).toBe(true);
    }, 120_000);
  }
});
