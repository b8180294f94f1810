// `pdsim explain SCENARIO --request ID`: one request's story on every instance, then its prompt
// tokens by source under the truth and every accounting profile, with the reason for each
// difference.

import { Cluster } from "../cluster/cluster.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import { type LegAccounting, legAccounting } from "../explain/accounting.ts";
import { storyLines } from "../explain/story.ts";
import type { TraceEvent } from "../explain/trace.ts";
import { PROFILE_NAMES } from "../metrics/profiles.ts";
import { loadScenario } from "../scenario/index.ts";
import { didYouMean } from "../scenario/suggest.ts";
import { EXIT_OK, UsageError, exitForBadInput, parseSeed } from "./bad-input.ts";

export interface ExplainOptions {
  scenario: string;
  request: string;
  seed?: string | undefined;
  json: boolean;
}

export function explainCommand(opts: ExplainOptions): number {
  try {
    const scenario = loadScenario(opts.scenario);
    const seed = opts.seed === undefined ? scenario.seed : parseSeed(opts.seed);
    const ids: string[] = [];
    let record: RequestRecord | null = null;
    const cluster = new Cluster(
      scenario,
      seed,
      {
        onRequestFinished: (r) => {
          ids.push(r.id);
          if (r.id === opts.request) record = r;
        },
      },
      [...PROFILE_NAMES],
    );
    const trace = cluster.traceRequest(opts.request);
    cluster.run();
    if (record === null) {
      throw new UsageError(
        `${opts.scenario}: no request '${opts.request}'${didYouMean(opts.request, ids)}` +
          (ids.length > 0
            ? ` (ids run from ${ids.slice().sort()[0]} to ${ids.slice().sort().at(-1)})`
            : ""),
      );
    }
    const found: RequestRecord = record;
    const accounting = found.legs
      .map((leg) => legAccounting(leg, found.prompt_tokens))
      .filter((a): a is LegAccounting => a !== null);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({ request: found, events: trace.events, accounting }, null, 2) + "\n",
      );
    } else {
      process.stdout.write(render(found, trace.events, accounting));
    }
    return EXIT_OK;
  } catch (err) {
    return exitForBadInput(err);
  }
}

function render(
  r: RequestRecord,
  events: readonly TraceEvent[],
  accounting: LegAccounting[],
): string {
  const out: string[] = [];
  out.push(
    `Request ${r.id}: ${r.prompt_tokens} prompt tokens, max_tokens ${r.max_tokens}; ` +
      `finished ${r.finish_reason} at t=${r.finish_s.toFixed(6)}s`,
  );
  out.push("");
  out.push(...storyLines(events));
  for (const a of accounting) {
    out.push("");
    out.push(`Where the ${a.numPromptTokens} prompt tokens came from on ${a.instance}:`);
    out.push(table(a));
    if (a.reasons.length === 0) out.push("Every profile agrees with the truth here.");
    else for (const reason of a.reasons) out.push(`  - ${reason}`);
  }
  return out.join("\n") + "\n";
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
