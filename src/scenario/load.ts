// Reads a scenario file into a resolved Scenario, or throws a ScenarioError that places every
// problem at its file, line and column.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { checkScenarioFile } from "./checks.ts";
import { ScenarioError, type ScenarioIssue } from "./errors.ts";
import { formatPath, type Problem } from "./paths.ts";
import { createSourceMap, type SourceMap } from "./positions.ts";
import { resolveScenario } from "./resolve.ts";
import type { Scenario } from "./types.ts";
import { validateScenarioFile } from "./validate.ts";

const READ_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
};

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const reason = READ_ERRORS[code] ?? (error as Error).message;
    throw new ScenarioError([
      { file, line: 0, column: 0, path: "", message: `cannot read scenario '${file}': ${reason}` },
    ]);
  }
  return parseScenario(text, file);
}

/** `file` is used for messages and the default name only; nothing is read from disk. */
export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { file, line, column: col, path: "", message: error.message };
      }),
    );
  }
  if (doc.contents === null) {
    throw new ScenarioError([
      {
        file,
        line: 1,
        column: 1,
        path: "",
        message:
          "the scenario is empty; expected a mapping with at least 'instances' and 'workload'",
      },
    ]);
  }
  const source = createSourceMap(doc, lineCounter);
  const place = (problems: readonly Problem[]): ScenarioIssue[] =>
    problems.map((problem) => placeProblem(problem, file, source));

  const validation = validateScenarioFile(doc.toJS());
  if (!validation.ok) throw new ScenarioError(place(validation.problems));
  const problems = checkScenarioFile(validation.file);
  if (problems.length > 0) throw new ScenarioError(place(problems));
  return resolveScenario(validation.file, { file, lineOf: source.lineOf });
}

function placeProblem(problem: Problem, file: string, source: SourceMap): ScenarioIssue {
  const { line, column } = source.positionOf(problem.path, problem.at);
  return { file, line, column, path: formatPath(problem.path), message: problem.message };
}
