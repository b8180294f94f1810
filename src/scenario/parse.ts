// Reads a scenario's text into a resolved Scenario, or throws a ScenarioError that places every
// problem at its file, line and column. Nothing here touches a disk: the files a scenario names
// are reached through ScenarioFiles (load.ts gives Node's; the playground its own).
import { type Document, LineCounter, parseDocument, visit } from "yaml";
import { checkScenarioFile } from "./checks.ts";
import { ScenarioError, type ScenarioIssue } from "./errors.ts";
import { formatPath, type Problem } from "./paths.ts";
import { createSourceMap, type SourceMap } from "./positions.ts";
import { resolveScenario, type ScenarioFiles } from "./resolve.ts";
import type { Scenario } from "./types.ts";
import { validateScenarioFile } from "./validate.ts";

/** `file` names the scenario in messages and places the relative paths it holds. */
export function parseScenarioText(text: string, file: string, files: ScenarioFiles): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        // yaml reports its parser's own stack overflow as an error of the document.
        const message = /call stack/i.test(error.message)
          ? "the YAML is nested too deeply to read"
          : error.message;
        return { file, line, column: col, path: "", message };
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

  const validation = validateScenarioFile(toPlain(doc, lineCounter, file));
  if (!validation.ok) throw new ScenarioError(place(validation.problems));
  const problems = checkScenarioFile(validation.file);
  if (problems.length > 0) throw new ScenarioError(place(problems));
  return resolveScenario(validation.file, { file, files, lineOf: source.lineOf });
}

/**
 * A scenario given as data rather than text (a sweep's variant of a scenario file): the same
 * checks, with problems named by their field alone, since the data has no lines. `file` places
 * the relative paths (traces, config.json) and names the scenario.
 */
export function resolveScenarioData(data: unknown, file: string, files: ScenarioFiles): Scenario {
  const unplaced = (problems: readonly Problem[]): ScenarioIssue[] =>
    problems.map((p) => ({
      file,
      line: 0,
      column: 0,
      path: formatPath(p.path),
      message: p.message,
    }));
  const validation = validateScenarioFile(data);
  if (!validation.ok) throw new ScenarioError(unplaced(validation.problems));
  const problems = checkScenarioFile(validation.file);
  if (problems.length > 0) throw new ScenarioError(unplaced(problems));
  return resolveScenario(validation.file, { file, files, lineOf: () => 0 });
}

/**
 * A scenario's plain data, for a sweep to vary: the text is first parsed as `pdsim run` parses
 * it, so that its own problems are placed at their lines.
 */
export function scenarioData(text: string, file: string, files: ScenarioFiles): unknown {
  parseScenarioText(text, file, files);
  const lineCounter = new LineCounter();
  return toPlain(parseDocument(text, { lineCounter, prettyErrors: false }), lineCounter, file);
}

/**
 * What yaml's own limit on alias expansion allows: a scenario needs a few aliases at most; a file
 * whose aliases expand to more nodes than this is an alias bomb.
 */
const MAX_ALIAS_COUNT = 1_000;

function toPlain(doc: Document, lineCounter: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml signals an alias bomb with a ReferenceError.
    if (!(error instanceof ReferenceError)) throw error;
    let at = 0;
    visit(doc, {
      Alias(_key, node) {
        at = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const { line, col } = lineCounter.linePos(at);
    throw new ScenarioError([
      {
        file,
        line,
        column: col,
        path: "",
        message: `its YAML aliases expand to more than ${MAX_ALIAS_COUNT} nodes; write the values out instead`,
      },
    ]);
  }
}

function placeProblem(problem: Problem, file: string, source: SourceMap): ScenarioIssue {
  const { line, column } = source.positionOf(problem.path, problem.at);
  return { file, line, column, path: formatPath(problem.path), message: problem.message };
}
