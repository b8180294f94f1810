// The run view: the summary table the CLI prints, the expectations, the log lines, the report's
// charts (the same code as report.html), and every request's sources, each row explained on a
// click.

import Chart from "chart.js/auto";
import type { InstanceLeg, RequestRecord } from "../cluster/request-record.ts";
import { SUMMARY_COLUMNS, summaryRows } from "../output/console-report.ts";
import { escapeHtml } from "../util/html.ts";
import type { PageResult } from "./page-run.ts";
import { type ChartConstructor, type DrawnCharts, drawReportCharts } from "./report-charts.ts";
import { reportFiguresHtml } from "./report-figures.ts";

const CHART_PREFIX = "run-";

export class RunView {
  private charts: DrawnCharts | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly onExplain: (request: string) => void,
  ) {}

  clear(): void {
    this.charts?.destroy();
    this.charts = null;
    this.root.innerHTML = "";
  }

  show(run: PageResult, wallSeconds: number): DrawnCharts {
    this.clear();
    const s = run.summary;
    const reasons = Object.entries(s.requests.by_finish_reason)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ");
    const passed = run.expectations.filter((e) => e.passed).length;
    this.root.innerHTML = `
<h2>Summary</h2>
<p class="headline">${escapeHtml(s.scenario.name)}: seed ${s.seed}, profile ${escapeHtml(s.profile)};
${s.requests.arrived} requests arrived, ${s.requests.finished} finished (${escapeHtml(reasons || "none")})
in ${s.simulated_seconds.toFixed(3)} simulated s, ${s.events} events. Ran in ${wallSeconds.toFixed(2)} s here.</p>
${summaryTable(run)}
${
  run.expectations.length === 0
    ? ""
    : `<p>Expectations: ${passed} passed, ${run.expectations.length - passed} failed</p>
<ul class="expectations">${run.expectations
        .map(
          (e) =>
            `<li class="${e.passed ? "pass" : "fail"}">${e.passed ? "✓" : "✗"} ${escapeHtml(e.instance)} ${escapeHtml(e.metric)} ${escapeHtml(e.expected)}: ${e.actual ?? "absent"}</li>`,
        )
        .join("")}</ul>`
}
${
  run.errorLines.length === 0
    ? ""
    : `<h3>Exporter errors</h3><pre class="errors">${escapeHtml(run.errorLines.join("\n"))}</pre>`
}
<details class="log"><summary>Log lines (${run.logLines.length + run.logLinesLeftOut})</summary>
<label>instance <select class="log-instance"><option value="">all</option>${run.summary.instances
      .map((i) => `<option>${escapeHtml(i.name)}</option>`)
      .join("")}</select></label>
<pre class="log-lines"></pre></details>
<h2>Charts</h2>
<div class="figures">${reportFiguresHtml(run.report, CHART_PREFIX)}</div>
<h2>Requests</h2>
<p>Where each request's prompt tokens came from on each instance it visited (the truth), for the first ${run.requests.length} to finish. Click a row for its story.</p>
${requestsTable(run.requests)}
<pre class="explain" hidden></pre>`;
    const logSelect = this.root.querySelector<HTMLSelectElement>("select.log-instance")!;
    const showLog = () => {
      // A log line reads `[t=…s INSTANCE] …`.
      const of = (line: string) => line.slice(line.indexOf(" ") + 1, line.indexOf("] "));
      const lines = run.logLines.filter((l) => logSelect.value === "" || of(l) === logSelect.value);
      const more = run.logLinesLeftOut > 0 ? `\n… and ${run.logLinesLeftOut} more` : "";
      this.root.querySelector("pre.log-lines")!.textContent = lines.join("\n") + more;
    };
    logSelect.addEventListener("change", showLog);
    showLog();
    this.root
      .querySelectorAll<HTMLTableRowElement>("tr[data-request]")
      .forEach((row) => row.addEventListener("click", () => this.onExplain(row.dataset.request!)));
    this.charts = drawReportCharts(
      Chart as unknown as ChartConstructor,
      run.report,
      (id) => document.getElementById(CHART_PREFIX + id) as HTMLCanvasElement,
    );
    return this.charts;
  }

  showExplanation(text: string): void {
    const pre = this.root.querySelector<HTMLPreElement>("pre.explain");
    if (pre === null) return;
    pre.hidden = false;
    pre.textContent = text;
    pre.scrollIntoView({ block: "nearest" });
  }
}

function summaryTable(run: PageResult): string {
  return table([...SUMMARY_COLUMNS], summaryRows(run.summary), "summary");
}

function requestsTable(records: readonly RequestRecord[]): string {
  const header = [
    "request",
    "instance",
    "role",
    "prompt",
    "local_compute",
    "local_cache_hit",
    "external_kv_transfer",
    "finish",
  ];
  const cell = (
    leg: InstanceLeg,
    key: "local_compute" | "local_cache_hit" | "external_kv_transfer",
  ) => (leg.truth === null ? "-" : String(leg.truth[key]));
  const body = records.flatMap((r) =>
    r.legs.map(
      (leg) =>
        `<tr data-request="${escapeHtml(r.id)}">${[
          r.id,
          leg.instance,
          leg.role,
          String(r.prompt_tokens),
          cell(leg, "local_compute"),
          cell(leg, "local_cache_hit"),
          cell(leg, "external_kv_transfer"),
          leg.finish_reason,
        ]
          .map((v) => `<td>${escapeHtml(v)}</td>`)
          .join("")}</tr>`,
    ),
  );
  return `<table class="requests"><thead><tr>${header.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

function table(header: string[], rows: string[][], className: string): string {
  return `<table class="${className}"><thead><tr>${header
    .map((h) => `<th>${escapeHtml(h)}</th>`)
    .join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((v) => `<td>${escapeHtml(v)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}
