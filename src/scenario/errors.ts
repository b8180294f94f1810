// The error a scenario that cannot be loaded throws: every issue found, each naming the file,
// line, column and field, so an operator can fix them all in one pass.

export interface ScenarioIssue {
  file: string;
  /** 1-based; 0 when the issue is about the file as a whole (it could not be read). */
  line: number;
  /** 1-based. */
  column: number;
  /** The field, e.g. "instances[1].engine.block_size"; empty when no field is at fault. */
  path: string;
  /** What was expected and what was found. */
  message: string;
}

/** More than this many issues usually share one cause; the first ones are the ones to read. */
export const MAX_REPORTED_ISSUES = 10;

/** `FILE:LINE:COLUMN: PATH: MESSAGE`; an issue without a line names its file in the message. */
export function formatIssue(issue: ScenarioIssue): string {
  const field = issue.path === "" ? "" : `${issue.path}: `;
  if (issue.line === 0) return `${field}${issue.message}`;
  return `${issue.file}:${issue.line}:${issue.column}: ${field}${issue.message}`;
}

export class ScenarioError extends Error {
  /** In source order, at most MAX_REPORTED_ISSUES of them. */
  readonly issues: readonly ScenarioIssue[];
  /** How many further issues were found but left out. */
  readonly omitted: number;

  constructor(issues: readonly ScenarioIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    const kept = sorted.slice(0, MAX_REPORTED_ISSUES);
    super(kept.map(formatIssue).join("\n"));
    this.name = "ScenarioError";
    this.issues = kept;
    this.omitted = sorted.length - kept.length;
  }

  /** One line per issue. */
  format(): string {
    return this.issues.map(formatIssue).join("\n");
  }
}
