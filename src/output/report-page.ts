// DIR/report.html: one self-contained page (Chart.js, the charts' code and the data inlined,
// nothing fetched) that draws a run's ReportData with the playground's charts.

import { chartJsSource, escapeHtml, reportChartsSource, scriptJson } from "./html-embed.ts";
import type { ReportData } from "./report-data.ts";

/** How the charts' figures are laid out, here and in the playground. */
export const FIGURE_STYLE = `
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr)); gap: 1rem; }
figure { margin: 0; } figcaption { font-size: 0.85rem; color: #555; }
.chart { position: relative; height: 16rem; }
.wide .chart { height: 24rem; }`;

export function renderReport(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pdsim report: ${escapeHtml(data.scenario)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } small { color: #666; font-weight: normal; }
${FIGURE_STYLE}
</style>
</head>
<body>
<h1>pdsim report: ${escapeHtml(data.scenario)}</h1>
<p>Profile ${escapeHtml(data.profile)}, seed ${data.seed}. Times are simulated seconds; the run's work ended at ${data.end} s.</p>
<div id="pdsim-figures"></div>
<script>${chartJsSource()}</script>
<script>${reportChartsSource()}</script>
<script type="application/json" id="pdsim-data">${scriptJson(data)}</script>
<script>${drawCode}</script>
</body>
</html>
`;
}

/** Runs in the page: the figures, their charts, then `window.pdsimReport` for tests. */
const drawCode = String.raw`
(function () {
  const data = JSON.parse(document.getElementById("pdsim-data").textContent);
  document.getElementById("pdsim-figures").innerHTML = pdsimCharts.reportFiguresHtml(data);
  const drawn = pdsimCharts.drawReportCharts(Chart, data, (id) => document.getElementById(id));
  window.pdsimReport = { charts: drawn.charts, empty: drawn.empty, fewestPoints: drawn.fewestPoints, intervals: drawn.intervals, ready: true };
})();
`;
