// `pdsim check SCENARIO`: the invariant catalogue over the scenario and perturbations of it; a
// table of what held and what broke, and for each break the smallest counterexample as a
// scenario file to replay with `pdsim run` and `pdsim explain`.

import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type CheckReport, type CheckRow, anyBroken, checkScenario } from "../check/check.ts";
import { checkBase } from "../check/perturb.ts";
import { describeScenario, docToYaml, scenarioOfDoc } from "../check/scenario-doc.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import { writeFileSet } from "../output/file-set-dir.ts";
import { loadScenario } from "../scenario/index.ts";
import {
  EXIT_EXPECTATION_FAILED,
  EXIT_OK,
  UsageError,
  exitForBadInput,
  parseSeed,
} from "./bad-input.ts";
import type { CliIo } from "./io.ts";

export interface CheckCommandOptions {
  scenario: string;
  runs?: string | undefined;
  profile?: string | undefined;
  seed?: string | undefined;
  out?: string | undefined;
}

export const DEFAULT_CHECK_RUNS = 50;

/** Written with the counterexamples; marks a directory as an earlier `pdsim check --out`. */
const REPORT_FILE = "check.txt";

export function checkCommand(io: CliIo, opts: CheckCommandOptions): number {
  try {
    const scenario = loadScenario(opts.scenario);
    const runs = opts.runs === undefined ? DEFAULT_CHECK_RUNS : parseRuns(opts.runs);
    const seed = opts.seed === undefined ? scenario.seed : parseSeed(opts.seed);
    const profile = (opts.profile ?? scenario.metrics.profile) as ProfileName;
    // The loader accepted the file, so it parses; the document keeps the keys as written.
    const doc = parseYaml(fs.readFileSync(opts.scenario, "utf8")) as Record<string, unknown>;
    const report = checkScenario(checkBase(doc, scenario), { profile, runs, seed });
    const files = counterexampleFiles(report);
    const text = render(opts.scenario, report, files, opts.out);
    if (opts.out !== undefined)
      writeFileSet(opts.out, new Map([...files, [REPORT_FILE, text]]), REPORT_FILE);
    io.stdout.write(text);
    return anyBroken(report) ? EXIT_EXPECTATION_FAILED : EXIT_OK;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}

function parseRuns(text: string): number {
  const runs = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new UsageError(`--runs must be a positive integer, got '${text}'`);
  }
  return runs;
}

function fileName(row: CheckRow): string {
  return `${row.invariant.id}.${row.subject}.yaml`;
}

function counterexampleFiles(report: CheckReport): Map<string, string> {
  const files = new Map<string, string>();
  for (const row of report.rows) {
    if (row.counterexample !== null) files.set(fileName(row), docToYaml(row.counterexample.doc));
  }
  return files;
}

function render(
  scenarioFile: string,
  report: CheckReport,
  files: ReadonlyMap<string, string>,
  out: string | undefined,
): string {
  const lines: string[] = [];
  const perturbed = report.runs - 1;
  lines.push(
    `pdsim check ${scenarioFile}: profile ${report.profile}, ${report.runs} runs ` +
      `(the scenario and ${perturbed} perturbation${perturbed === 1 ? "" : "s"}), search seed ${report.seed}`,
    "",
  );
  const header = ["invariant", "level", "subject", "promised", "result", "broken/runs"];
  const table = report.rows.map((row) => [
    row.invariant.id,
    row.invariant.level,
    row.subject,
    row.promised ? "yes" : "no",
    row.broken > 0 ? "BROKEN" : "held",
    `${row.broken}/${row.runs}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  for (const cells of [header, ...table]) {
    lines.push(
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
  }
  const broken = report.rows.filter((r) => r.broken > 0);
  const promisedBroken = broken.filter((r) => r.promised).length;
  lines.push(
    "",
    `${report.rows.length - broken.length} held, ${broken.length} broken` +
      (broken.length === 0
        ? "."
        : ` (${promisedBroken} where the subject promises it, ${broken.length - promisedBroken} known departures of ${report.profile}).`),
  );
  for (const row of broken) {
    const c = row.counterexample!;
    const file = fileName(row);
    const where = out === undefined ? file : path.join(out, file);
    lines.push(
      "",
      `BROKEN ${row.invariant.id} for ${row.subject}` +
        (row.promised
          ? " (promised: this is a bug)"
          : ` (not promised by ${row.subject}: a known departure)`),
      `  ${row.invariant.statement}`,
      `  Smallest counterexample found: ${describeScenario(scenarioOfDoc(c.doc))}`,
      `  ${c.violation.where}: ${c.violation.message}`,
    );
    const replay = [`pdsim run ${where} --profile ${report.profile}`];
    if (c.violation.requestId !== undefined)
      replay.push(`pdsim explain ${where} --request ${c.violation.requestId}`);
    if (out === undefined) {
      lines.push(
        `  Save this as ${file} (or pass --out DIR) and replay it with ${replay.join(", or ")}:`,
        "",
      );
      lines.push(
        ...files
          .get(file)!
          .trimEnd()
          .split("\n")
          .map((l) => `    ${l}`),
      );
    } else {
      lines.push(`  Written to ${where}; replay it with ${replay.join(", or ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
