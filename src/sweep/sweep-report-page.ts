// DIR/report.html of a sweep: one self-contained page (Chart.js and the data inlined, nothing
// fetched) with the status counts, the best configurations and a chart per collected column
// and varied key. The drawing code below runs in the browser.
import { chartJsSource, escapeHtml, scriptJson } from "../output/html-embed.ts";
import type { MeanInterval } from "./confidence.ts";
import type { SweepReportData } from "./sweep-report.ts";
import { BEST_ROWS, MAX_LINES } from "./sweep-report.ts";

/** `times`: when the sweep started and ended, as sweep.json records them. */
export function renderSweepReport(
  data: SweepReportData,
  version: string,
  times: { started: string; ended: string },
): string {
  const { counts } = data;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pdsim sweep: ${escapeHtml(data.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; margin-top: 1.5rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr)); gap: 1rem; }
figure { margin: 0; } figcaption { font-size: 0.85rem; color: #555; }
.chart { position: relative; height: 16rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>pdsim sweep: ${escapeHtml(data.name)}</h1>
${data.description === "" ? "" : `<p>${escapeHtml(data.description)}</p>\n`}<p>Scenario ${escapeHtml(data.scenario)}; ${data.keys.length === 0 ? "no varied key" : `varied: ${data.keys.map((k) => `<code>${escapeHtml(k)}</code>`).join(", ")}`}; ${data.seeds} seed${data.seeds === 1 ? "" : "s"} a configuration. pdsim ${escapeHtml(version)}, from ${escapeHtml(times.started)} to ${escapeHtml(times.ended)}.</p>
<p id="counts">${counts.runs} runs: ${counts.ok} ok, ${counts.failed} failed, ${counts.not_run} not run.</p>
${bestSection(data)}
${chartsSection(data)}
<script>${chartJsSource()}</script>
<script type="application/json" id="pdsim-data">${scriptJson(data.charts)}</script>
<script>${drawCode}</script>
</body>
</html>
`;
}

function bestSection(data: SweepReportData): string {
  const { objective } = data;
  if (objective === null) {
    return `<h2>Best configurations</h2>\n<p class="note">The sweep collects no column: nothing to rank.</p>`;
  }
  const better = objective.goal === "min" ? "lower is better" : "higher is better";
  const by = objective.named
    ? `by the sweep's objective, the mean over seeds of <code>${escapeHtml(objective.column)}</code> (${better})`
    : `by the first collected column, <code>${escapeHtml(objective.column)}</code>, the sweep naming no objective (${better}; name one with <code>objective: { column, goal }</code>)`;
  if (data.ranked === 0) {
    return `<h2>Best configurations</h2>\n<p class="note">No run has a value of <code>${escapeHtml(objective.column)}</code> (they failed or have not run): nothing to rank.</p>`;
  }
  const unranked = data.configurations - data.ranked;
  const rows = data.best.map(
    (row, i) =>
      `<tr><td class="num">${i + 1}</td>${row.values.map((v) => `<td>${escapeHtml(v)}</td>`).join("")}<td class="num">${formatNumber(row.interval.mean)}</td><td class="num">${intervalText(row.interval)}</td><td class="num">${row.interval.n} of ${row.runs}</td></tr>`,
  );
  return `<h2>Best configurations</h2>
<p class="note">The ${Math.min(BEST_ROWS, data.ranked)} best of ${data.configurations} configuration${data.configurations === 1 ? "" : "s"}, ranked ${by}. The interval is 95 % (Student's t over the seeds' values); a configuration with one value has none.${unranked > 0 ? ` ${unranked} configuration${unranked === 1 ? " has" : "s have"} no value of it (failed or not run) and ${unranked === 1 ? "is" : "are"} not ranked.` : ""}</p>
<table id="best">
<thead><tr><th>rank</th>${data.keys.map((k) => `<th>${escapeHtml(k)}</th>`).join("")}<th>mean ${escapeHtml(objective.column)}</th><th>95 % interval</th><th>seeds with a value</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>`;
}

function chartsSection(data: SweepReportData): string {
  if (data.keys.length === 0) {
    return `<h2>Metrics against the varied keys</h2>\n<p class="note">The sweep varies no key: no chart.</p>`;
  }
  const byColumn = new Map<string, { chart: SweepReportData["charts"][number]; i: number }[]>();
  data.charts.forEach((chart, i) => {
    const list = byColumn.get(chart.column) ?? [];
    list.push({ chart, i });
    byColumn.set(chart.column, list);
  });
  const sections = [...byColumn].map(
    ([column, charts]) => `<h3>${escapeHtml(column)}</h3>
<div class="grid">
${charts
  .map(
    ({ chart, i }) =>
      `<figure><div class="chart"><canvas id="chart-${i}"></canvas></div><figcaption>${escapeHtml(column)} against ${escapeHtml(chart.key)}${
        chart.lineKey !== null
          ? `, one line a value of ${escapeHtml(chart.lineKey)}`
          : chart.pooled.length > 0
            ? `, pooled over ${chart.pooled.map(escapeHtml).join(", ")}`
            : ""
      }</figcaption></figure>`,
  )
  .join("\n")}
</div>`,
  );
  const empty =
    data.emptyColumns.length === 0
      ? ""
      : `\n<p class="note">No run has a value of ${data.emptyColumns.map((c) => `<code>${escapeHtml(c)}</code>`).join(", ")}: no chart.</p>`;
  return `<h2>Metrics against the varied keys</h2>
<p class="note">Each point is the mean of a column over the runs that share the key's value, with its 95 % interval (Student's t with n − 1 degrees of freedom) as an error bar; a point with one run has none. With two varied keys, each chart has one line a value of the other key (up to ${MAX_LINES} values; past that, and with three keys or more, the other keys' values are pooled into each point with the seeds, and the interval spans them too). Failed runs are left out.</p>
${sections.join("\n")}${empty}`;
}

function intervalText(interval: MeanInterval): string {
  return interval.half === null ? "–" : `± ${formatNumber(interval.half)}`;
}

/** Six significant digits, and no trailing zeros: the same number is always the same text. */
export function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

/** Runs in the page: one Chart.js chart per canvas, then `window.pdsimReport` for tests. */
const drawCode = String.raw`
(function () {
  const charts = JSON.parse(document.getElementById("pdsim-data").textContent);
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
  // Each dataset's intervals, aligned with its data: a vertical bar with caps at each point.
  const errorBars = {
    id: "errorBars",
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      const y = chart.scales.y;
      chart.data.datasets.forEach((dataset, d) => {
        const meta = chart.getDatasetMeta(d);
        if (meta.hidden) return;
        meta.data.forEach((element, j) => {
          const interval = dataset.intervals[j];
          if (!interval) return;
          const top = y.getPixelForValue(interval[1]);
          const bottom = y.getPixelForValue(interval[0]);
          ctx.save();
          ctx.strokeStyle = dataset.borderColor;
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(element.x, top); ctx.lineTo(element.x, bottom);
          ctx.moveTo(element.x - 4, top); ctx.lineTo(element.x + 4, top);
          ctx.moveTo(element.x - 4, bottom); ctx.lineTo(element.x + 4, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
    },
  };
  const made = charts.map((chart, i) => {
    // The axis spans the error bars, not only the means.
    let low = Infinity;
    let high = -Infinity;
    for (const series of chart.series) {
      for (const p of series.points) {
        if (p === null) continue;
        const half = p.half === null ? 0 : p.half;
        low = Math.min(low, p.mean - half);
        high = Math.max(high, p.mean + half);
      }
    }
    const datasets = chart.series.map((series, s) => {
      const points = [];
      const intervals = [];
      series.points.forEach((p, j) => {
        if (chart.axis === "linear" && p === null) return;
        points.push(chart.axis === "linear" ? { x: chart.xs[j], y: p.mean } : p === null ? null : p.mean);
        intervals.push(p === null || p.half === null ? null : [p.mean - p.half, p.mean + p.half]);
      });
      const color = COLORS[s % COLORS.length];
      return {
        label: series.label === null ? chart.column : chart.lineKey + " = " + series.label,
        data: points,
        intervals,
        borderColor: color,
        backgroundColor: color,
        pointRadius: 3,
      };
    });
    return new Chart(document.getElementById("chart-" + i), {
      type: "line",
      data: chart.axis === "linear" ? { datasets } : { labels: chart.xs, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: chart.lineKey !== null, labels: { boxWidth: 10, font: { size: 10 } } } },
        scales: {
          x: { type: chart.axis, offset: chart.axis === "category", title: { display: true, text: chart.key } },
          y: { suggestedMin: low, suggestedMax: high, title: { display: true, text: chart.column } },
        },
      },
      plugins: [errorBars],
    });
  });
  window.pdsimReport = { charts: made.length, empty: made.filter((c) => c.data.datasets.every((d) => d.data.length === 0)).length, ready: true };
})();
`;
