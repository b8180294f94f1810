import { describe, expect, it } from "vitest";
import {
  MAX_REPORTED_ISSUES,
  ScenarioError,
  type ScenarioIssue,
} from "../../src/scenario/index.ts";
import { issuesOf, lines, PD_BASE } from "./helpers.ts";

const issue = (line: number, column: number, path: string, message: string): ScenarioIssue => ({
  file: "a.yaml",
  line,
  column,
  path,
  message,
});

describe("ScenarioError", () => {
  it("formats one line per issue as FILE:LINE:COLUMN: PATH: MESSAGE, in source order", () => {
    const error = new ScenarioError([
      issue(9, 3, "engine.block_size", "expected a positive integer, got 0"),
      issue(2, 7, "", "bad indentation"),
      issue(2, 1, "seed", "expected a non-negative integer, got -1"),
    ]);
    expect(error.format()).toBe(
      [
        "a.yaml:2:1: seed: expected a non-negative integer, got -1",
        "a.yaml:2:7: bad indentation",
        "a.yaml:9:3: engine.block_size: expected a positive integer, got 0",
      ].join("\n"),
    );
    expect(error.message).toBe(error.format());
    expect(error.name).toBe("ScenarioError");
  });

  it("keeps the first ten issues in source order and counts the rest", () => {
    const many = Array.from({ length: 13 }, (_, i) => issue(13 - i, 1, `k${13 - i}`, "m"));
    const error = new ScenarioError(many);
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.issues.map((i) => i.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(error.omitted).toBe(3);
    expect(error.format().split("\n")).toHaveLength(10);
  });

  it("caps the issues a real file raises at ten", () => {
    const badInstances = Array.from({ length: 12 }, (_, i) => `  - { name: u${i}, role: x }`);
    const issues = issuesOf(lines("instances:", ...badInstances, ...PD_BASE.slice(3)));
    expect(issues.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
