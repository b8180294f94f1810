// The figures of a run's charts, as markup: a canvas for each, with its caption. Shared by
// report.html and the playground, like report-charts.ts, which draws them; no DOM needed here.

import type { ReportData } from "../output/report-data.ts";
import { PROMPT_SOURCES } from "../accounting/prompt-source-counters.ts";
import { escapeHtml } from "../util/html.ts";

export const SOURCES = PROMPT_SOURCES;

/** The figures, each holding a canvas whose id `drawReportCharts` finds under `prefix`. */
export function reportFiguresHtml(data: ReportData, prefix = ""): string {
  const canvas = (id: string) => `<canvas id="${prefix}${id}"></canvas>`;
  const interval = formatInterval(data.intervalS);
  const sections = data.instances.map(
    (instance, i) => `
<section>
  <h2>${escapeHtml(instance.name)} <small>${escapeHtml(instance.role)}</small></h2>
  <div class="grid">
    <figure><div class="chart">${canvas(`sources-${i}`)}</div><figcaption>Prompt tokens per second by source, per ${interval}: the truth (solid) and ${escapeHtml(data.profile)} (dashed)</figcaption></figure>
    <figure><div class="chart">${canvas(`hits-${i}`)}</div><figcaption>Prefix-cache hit rate, local and external (connector): per ${interval} where anything was looked up (dots), and since the start (line)</figcaption></figure>
    <figure><div class="chart">${canvas(`usage-${i}`)}</div><figcaption>KV-cache usage: the highest in each ${interval}</figcaption></figure>
    <figure><div class="chart">${canvas(`queue-${i}`)}</div><figcaption>Requests running and waiting: the most in each ${interval}</figcaption></figure>
  </div>
</section>`,
  );
  const shown = new Set(data.requests.map((r) => r.id)).size;
  return `${sections.join("\n")}
<section class="wide">
  <h2>Where each request's prompt tokens came from</h2>
  <figure><div class="chart">${canvas("requests")}</div><figcaption>The ground truth on each instance a request visited, for the first ${shown} requests to finish</figcaption></figure>
</section>
<section class="wide">
  <h2>Timeline of P/D requests</h2>
  <figure><div class="chart">${canvas("timeline")}</div><figcaption>Spans of the first P/D requests to finish: prefill queue and prefill, the KV transfer, decode queue (which includes the wait for the KV), the decode instance's first step, and decoding</figcaption></figure>
</section>`;
}

/** "10 ms", "0.5 s": the width of one interval, for the captions. */
export function formatInterval(seconds: number): string {
  if (seconds >= 1) return `${+seconds.toPrecision(3)} s`;
  if (seconds >= 1e-3) return `${+(seconds * 1e3).toPrecision(3)} ms`;
  return `${+(seconds * 1e6).toPrecision(3)} µs`;
}
