// One request, explained: run the scenario with every profile exported while tracing the
// request, then tell its story and show its accounting on every instance it visited. Used by
// `pdsim explain` and by the guide's generator.

import { ClusterCore } from "../cluster/cluster-core.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { RequestTrace, type TraceEvent } from "../cluster/request-trace.ts";
import { PROFILE_LIST } from "../accounting/profiles.ts";
import type { Scenario } from "../scenario/types.ts";
import type { WorkloadOpener } from "../workload/in-memory-workload.ts";
import { type LegAccounting, legAccounting } from "./accounting.ts";
import { storyLines } from "./story.ts";

export interface Explanation {
  request: RequestRecord;
  events: TraceEvent[];
  accounting: LegAccounting[];
}

/**
 * The explanation of request `id`, or the ids the run did finish when it has no such request;
 * `openWorkload` opens the scenario's workload (the CLI's reads traces too).
 */
export function explainRequest(
  scenario: Scenario,
  seed: number,
  id: string,
  openWorkload: WorkloadOpener,
): Explanation | { missing: string[] } {
  const ids: string[] = [];
  let record: RequestRecord | null = null;
  const cluster = new ClusterCore(
    scenario,
    seed,
    {
      onRequestFinished: (r) => {
        ids.push(r.id);
        if (r.id === id) record = r;
      },
    },
    PROFILE_LIST,
    { openWorkload },
  );
  const trace = new RequestTrace(id);
  cluster.observe(trace);
  cluster.run();
  if (record === null) return { missing: ids };
  const found: RequestRecord = record;
  const accounting = found.legs
    .map((leg) => legAccounting(leg, found.prompt_tokens))
    .filter((a): a is LegAccounting => a !== null);
  return { request: found, events: trace.events, accounting };
}

export function renderExplanation({ request: r, events, accounting }: Explanation): string {
  const out: string[] = [];
  out.push(
    `Request ${r.id}: ${r.prompt_tokens} prompt tokens, max_tokens ${r.max_tokens}; ` +
      `finished ${r.finish_reason} at t=${r.finish_s.toFixed(6)}s`,
  );
  out.push("");
  out.push(...storyLines(events));
  for (const a of accounting) out.push("", ...renderAccounting(a));
  return out.join("\n") + "\n";
}

/** One instance's table of sources by truth and profile, with the reason for each difference. */
export function renderAccounting(a: LegAccounting): string[] {
  const out = [
    `Where the ${a.numPromptTokens} prompt tokens came from on ${a.instance}:`,
    table(a),
  ];
  if (a.reasons.length === 0) out.push("Every profile agrees with the truth here.");
  else for (const reason of a.reasons) out.push(`  - ${reason}`);
  return out;
}

function table(a: LegAccounting): string {
  const header = [
    "",
    "local_compute",
    "local_cache_hit",
    "external_kv",
    "sum",
    "cached",
    "recomputed",
    "",
  ];
  const cell = (v: number | null) => (v === null ? "-" : String(v));
  const rows = a.rows.map((row) => {
    const sum =
      row.local_compute === null
        ? null
        : row.local_compute + row.local_cache_hit! + row.external_kv_transfer!;
    return [
      row.label,
      cell(row.local_compute),
      cell(row.local_cache_hit),
      cell(row.external_kv_transfer),
      cell(sum),
      cell(row.cached),
      cell(row.recomputed),
      row.note ?? "",
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    "  " +
    cells
      .map((v, c) =>
        c === 0 || c === cells.length - 1 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!),
      )
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
