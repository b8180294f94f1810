// A check of a loaded scenario that needs the built cluster: every `expect` names a metric that
// its instance actually exports.

import type { ClusterCore } from "./cluster-core.ts";
import { ScenarioError, type ScenarioIssue } from "../scenario/errors.ts";
import { didYouMean } from "../scenario/suggest.ts";
import type { Scenario } from "../scenario/types.ts";

export function validateExpectationMetrics(scenario: Scenario, cluster: ClusterCore): void {
  const issues: ScenarioIssue[] = [];
  scenario.expect.forEach((e, index) => {
    const instance = cluster.instances.find((i) => i.name === e.instance);
    if (instance === undefined) return; // the loader already reported it
    const names = instance.statLoggers.prometheus.sampleNames();
    if (names.includes(e.selector.name)) return;
    issues.push({
      file: scenario.file,
      line: e.line,
      column: 1,
      path: `expect[${index}].metric`,
      message: `instance '${e.instance}' exports no sample named '${e.selector.name}'${didYouMean(e.selector.name, names)}`,
    });
  });
  if (issues.length > 0) throw new ScenarioError(issues);
}
