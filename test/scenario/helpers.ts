// Helpers for the scenario tests: build a file from lines (so line numbers read off the
// array) and collect the issues a bad file raises.
import { expect } from "vitest";
import { parseScenario, ScenarioError, type ScenarioIssue } from "../../src/scenario/index.ts";
import type { Scenario } from "../../src/scenario/types.ts";

export function lines(...text: string[]): string {
  return `${text.join("\n")}\n`;
}

/** A valid P/D scenario of six lines that tests extend or alter. */
export const PD_BASE = [
  "instances:",
  "  - { name: prefill-0, role: prefill }",
  "  - { name: decode-0, role: decode }",
  "workload:",
  "  requests:",
  "    - { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 }",
] as const;

export function issuesOf(text: string, file = "s.yaml"): readonly ScenarioIssue[] {
  try {
    parseScenario(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).issues;
  }
  throw new Error("expected the scenario to be rejected, but it loaded");
}

/** The single issue a file raises; fails if it raises none or several. */
export function onlyIssue(text: string): ScenarioIssue {
  const issues = issuesOf(text);
  expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toHaveLength(1);
  const [issue] = issues;
  if (issue === undefined) throw new Error("unreachable: length checked above");
  return issue;
}

/** The 1-based column where `needle` first appears in `line`, so tests need not count. */
export function columnOf(line: string, needle: string): number {
  const index = line.indexOf(needle);
  if (index === -1) throw new Error(`'${needle}' is not in '${line}'`);
  return index + 1;
}

/** A scenario from its text, as `pdsim run` would load it from s.yaml. */
export function loadScenarioText(text: string): Scenario {
  return parseScenario(text, "s.yaml");
}
