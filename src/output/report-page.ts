// DIR/report.html: one self-contained page (Chart.js and the data inlined, nothing fetched) that
// draws a run's ReportData. The drawing code below runs in the browser.

import { chartJsSource, escapeHtml, scriptJson } from "./html-embed.ts";
import type { ReportData } from "./report-data.ts";

export function renderReport(data: ReportData): string {
  const sections = data.instances
    .map(
      (instance, i) => `
<section>
  <h2>${escapeHtml(instance.name)} <small>${escapeHtml(instance.role)}</small></h2>
  <div class="grid">
    <figure><div class="chart"><canvas id="sources-${i}"></canvas></div><figcaption>Prompt tokens per second by source: the truth (solid) and ${escapeHtml(data.profile)} (dashed)</figcaption></figure>
    <figure><div class="chart"><canvas id="hits-${i}"></canvas></div><figcaption>Prefix-cache hit rate per interval, local and external (connector)</figcaption></figure>
    <figure><div class="chart"><canvas id="usage-${i}"></canvas></div><figcaption>KV-cache usage at each scrape</figcaption></figure>
    <figure><div class="chart"><canvas id="queue-${i}"></canvas></div><figcaption>Requests running and waiting at each scrape</figcaption></figure>
  </div>
</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pdsim report: ${escapeHtml(data.scenario)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } small { color: #666; font-weight: normal; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr)); gap: 1rem; }
figure { margin: 0; } figcaption { font-size: 0.85rem; color: #555; }
.chart { position: relative; height: 16rem; }
.wide .chart { height: 24rem; }
</style>
</head>
<body>
<h1>pdsim report: ${escapeHtml(data.scenario)}</h1>
<p>Profile ${escapeHtml(data.profile)}, seed ${data.seed}. Times are simulated seconds; each point covers one scrape interval.</p>
${sections}
<section class="wide">
  <h2>Where each request's prompt tokens came from</h2>
  <figure><div class="chart"><canvas id="requests"></canvas></div><figcaption>The ground truth on each instance a request visited, for the first ${data.requests.length === 0 ? 0 : new Set(data.requests.map((r) => r.id)).size} requests to finish</figcaption></figure>
</section>
<section class="wide">
  <h2>Timeline of P/D requests</h2>
  <figure><div class="chart"><canvas id="timeline"></canvas></div><figcaption>Spans of the first P/D requests to finish: prefill queue and prefill, the KV transfer, decode queue (which includes the wait for the KV), the decode instance's first step, and decoding</figcaption></figure>
</section>
<script>${chartJsSource()}</script>
<script type="application/json" id="pdsim-data">${scriptJson(data)}</script>
<script>${drawCode}</script>
</body>
</html>
`;
}

/** Runs in the page: one Chart.js chart per canvas, then `window.pdsimReport` for tests. */
const drawCode = String.raw`
(function () {
  const data = JSON.parse(document.getElementById("pdsim-data").textContent);
  const SOURCES = ["local_compute", "local_cache_hit", "external_kv_transfer"];
  const COLORS = { local_compute: "#d62728", local_cache_hit: "#2ca02c", external_kv_transfer: "#1f77b4" };
  const PHASES = { "P queue": "#c7c7c7", "P prefill": "#ff7f0e", transfer: "#9467bd", "D queue": "#aec7e8", "D first step": "#d62728", decode: "#2ca02c" };
  const charts = [];
  const base = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
  };
  const points = (ys) => ys.map((y, i) => ({ x: data.times[i], y }));
  const timeScale = { type: "linear", title: { display: true, text: "simulated s" } };
  const line = (id, datasets, yOptions) => {
    charts.push(new Chart(document.getElementById(id), {
      type: "line",
      data: { datasets },
      options: { ...base, parsing: true, spanGaps: true, scales: { x: timeScale, y: { beginAtZero: true, ...yOptions } } },
    }));
  };
  data.instances.forEach((instance, i) => {
    const sources = SOURCES.map((s) => ({ label: s + " (truth)", data: points(instance.truth[s]), borderColor: COLORS[s], pointRadius: 0 }));
    if (instance.reported) {
      for (const s of SOURCES) sources.push({ label: s + " (" + data.profile + ")", data: points(instance.reported[s]), borderColor: COLORS[s], borderDash: [6, 4], pointRadius: 0 });
    } else {
      sources.push({ label: "all prompt tokens (" + data.profile + ")", data: points(instance.reportedTotal), borderColor: "#7f7f7f", borderDash: [6, 4], pointRadius: 0 });
    }
    line("sources-" + i, sources, { title: { display: true, text: "tokens/s" } });
    line("hits-" + i, [
      { label: "local prefix cache", data: points(instance.prefixHitRate), borderColor: "#2ca02c", pointRadius: 1 },
      { label: "external (connector)", data: points(instance.externalHitRate), borderColor: "#1f77b4", pointRadius: 1 },
    ], { max: 1 });
    line("usage-" + i, [{ label: "KV-cache usage", data: points(instance.kvCacheUsage), borderColor: "#ff7f0e", pointRadius: 0 }], { max: 1 });
    line("queue-" + i, [
      { label: "running", data: points(instance.running), borderColor: "#2ca02c", pointRadius: 0 },
      { label: "waiting", data: points(instance.waiting), borderColor: "#d62728", pointRadius: 0 },
    ], {});
  });
  charts.push(new Chart(document.getElementById("requests"), {
    type: "bar",
    data: {
      labels: data.requests.map((r) => r.id + "@" + r.instance),
      datasets: SOURCES.map((s) => ({ label: s, data: data.requests.map((r) => r.sources[s]), backgroundColor: COLORS[s] })),
    },
    options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "prompt tokens" } } } },
  }));
  const requests = [...new Set(data.spans.map((s) => s.request))];
  charts.push(new Chart(document.getElementById("timeline"), {
    type: "bar",
    data: {
      labels: requests,
      datasets: Object.keys(PHASES).map((phase) => ({
        label: phase,
        data: data.spans.filter((s) => s.phase === phase).map((s) => ({ x: [s.from, s.to], y: s.request })),
        backgroundColor: PHASES[phase],
        grouped: false,
      })),
    },
    options: { ...base, indexAxis: "y", scales: { x: { ...timeScale, min: undefined } } },
  }));
  window.pdsimReport = { charts: charts.length, empty: charts.filter((c) => c.data.datasets.every((d) => d.data.length === 0)).length, ready: true };
})();
`;
