// The human-readable side of `pdsim run`: each log line as printed, and at the end the run
// totals, one row per instance, then the expectations.

import { formatSeconds } from "../../sim/index.ts";
import type { InstanceExporterError, LogLine } from "../cluster/instance.ts";
import { EXPORTER_ERROR_MESSAGE } from "../accounting/prompt-source-counters.ts";
import type { ExpectationResult } from "../scenario/expectations.ts";
import { describeExpected } from "../scenario/expectations.ts";
import type { RunSummary } from "./summary.ts";

/** The summary table's columns, one row per instance: the CLI's and the playground's. */
export const SUMMARY_COLUMNS = [
  "instance",
  "role",
  "finished",
  "prompt tok",
  "computed (truth)",
  "computed (vLLM)",
  "gen tok",
  "prefix hit",
  "preempt",
  "steps",
] as const;

export function summaryRows(summary: RunSummary): string[][] {
  return summary.instances.map((i) => [
    i.name,
    i.role,
    String(Object.values(i.requests_finished).reduce((a, b) => a + b, 0)),
    String(i.prompt_tokens),
    String(i.prompt_tokens_computed),
    String(i.prompt_tokens_computed_reported),
    String(i.generation_tokens),
    `${(i.prefix_cache_hit_rate * 100).toFixed(1)}%`,
    String(i.preemptions),
    String(i.engine_steps),
  ]);
}

export function formatSummary(
  summary: RunSummary,
  expectations: readonly ExpectationResult[],
): string {
  const lines: string[] = [];
  const r = summary.requests;
  const reasons = Object.entries(r.by_finish_reason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  lines.push(
    `${summary.scenario.name}: seed ${summary.seed}, profile ${summary.profile}; ` +
      `${r.arrived} requests arrived, ${r.finished} finished (${reasons || "none"}) ` +
      `in ${summary.simulated_seconds.toFixed(3)} simulated s, ${summary.events} events`,
  );
  lines.push(table([...SUMMARY_COLUMNS], summaryRows(summary)));
  const refused = summary.exporter_errors;
  if (refused.length > 0) {
    const requests = new Set(refused.flatMap((e) => e.request_ids));
    lines.push(
      `exporter errors: ${refused.length} increments vLLM's exporter would have refused ` +
        `(negative amounts), caused by ${requests.size} requests; see stderr and summary.json`,
    );
  }
  if (expectations.length > 0) {
    const failed = expectations.filter((e) => !e.passed);
    lines.push(
      `expectations: ${expectations.length - failed.length} passed, ${failed.length} failed`,
    );
    for (const f of failed) {
      const e = f.expectation;
      const actual = f.actual === undefined ? "no such series" : String(f.actual);
      lines.push(
        `  FAILED ${e.instance} ${e.metric}: expected ${describeExpected(e)}, got ${actual}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** `[t=20.000s unified-0] Engine 000: Avg prompt throughput: …` */
export function formatLogLine(line: LogLine): string {
  return `[t=${formatSeconds(line.time)}s ${line.instance}] ${line.message}`;
}

/**
 * What vLLM's front end would have logged before its output handler died; pdsim carries on.
 * `[t=0.009s decode-0] ERROR vllm-pr33290: AsyncLLM output_handler failed: ValueError: …`
 */
export function formatExporterError(e: InstanceExporterError): string {
  return (
    `[t=${formatSeconds(e.time)}s ${e.instance}] ERROR ${e.profile}: AsyncLLM output_handler failed: ` +
    `ValueError: ${EXPORTER_ERROR_MESSAGE} (${e.metric} += ${e.amount}; requests ${e.requestIds.join(", ")})`
  );
}
