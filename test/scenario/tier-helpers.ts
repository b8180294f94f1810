import { parseScenario } from "../../src/scenario/index.ts";
import type { Scenario } from "../../src/scenario/types.ts";

/** A scenario from its text, as `pdsim run` would load it from s.yaml. */
export function loadScenarioText(text: string): Scenario {
  return parseScenario(text, "s.yaml");
}
