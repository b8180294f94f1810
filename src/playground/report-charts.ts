// The charts of a run: the Chart.js code that draws report-figures.ts's canvases. One code for
// two pages: `pdsim run --out DIR` inlines it in DIR/report.html (report-page.ts bundles
// this file with esbuild), and the playground's run view imports it. It runs in a browser only.

import type { ReportData } from "../output/report-data.ts";
import { SOURCES } from "./report-figures.ts";

export { reportFiguresHtml } from "./report-figures.ts";

/** The Chart.js constructor: the page's global in report.html, an import in the playground. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ChartConstructor = new (canvas: HTMLCanvasElement, config: any) => ChartLike;

export interface ChartLike {
  data: { datasets: { data: unknown[] }[] };
  destroy(): void;
}

export interface DrawnCharts {
  charts: number;
  /** Charts with no data point at all. */
  empty: number;
  /** The fewest points with a value of any time series drawn: the resolution a reader gets. */
  fewestPoints: number;
  /** The intervals the run was cut into. */
  intervals: number;
  destroy(): void;
}

const COLORS = {
  local_compute: "#d62728",
  local_cache_hit: "#2ca02c",
  external_kv_transfer: "#1f77b4",
};
const PHASES = {
  "P queue": "#c7c7c7",
  "P prefill": "#ff7f0e",
  transfer: "#9467bd",
  "D queue": "#aec7e8",
  "D first step": "#d62728",
  decode: "#2ca02c",
};

/**
 * Draws every chart of `reportFiguresHtml(data, prefix)`. Rates and the gauges' highest values
 * are per interval and drawn flat across it; hit rates are dots per interval and a line since
 * the start; a dashed line marks where the run's work ended.
 */
export function drawReportCharts(
  Chart: ChartConstructor,
  data: ReportData,
  canvasOf: (id: string) => HTMLCanvasElement,
): DrawnCharts {
  const charts: ChartLike[] = [];
  const seriesLengths: number[] = [];
  const base = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
  };
  const times = data.times;
  // A value per interval holds over it: drawn flat from its start to its end, with a gap where
  // there is none (null).
  type Point = { x: number; y: number | null };
  const steps = (values: (number | null)[]): Point[] =>
    values.flatMap((y, i): Point[] =>
      y === null
        ? [{ x: times[i]!, y: null }]
        : [
            { x: times[i]!, y },
            { x: times[i + 1]!, y },
          ],
    );
  const atSamples = (values: (number | null)[]) => values.map((y, i) => ({ x: times[i]!, y }));
  const timeScale = {
    type: "linear",
    min: 0,
    max: data.end > 0 ? data.end : undefined,
    title: { display: true, text: "simulated s" },
  };
  const runEnd = {
    id: "pdsimRunEnd",
    afterDatasetsDraw(chart: {
      ctx: CanvasRenderingContext2D;
      chartArea: { top: number; bottom: number };
      scales: { x: { getPixelForValue(v: number): number } };
    }) {
      const x = chart.scales.x.getPixelForValue(data.end);
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.strokeStyle = "#555";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.font = "10px sans-serif";
      ctx.textAlign = "right";
      ctx.fillText("run ended", x - 3, chartArea.top + 10);
      ctx.restore();
    },
  };
  interface LineSet {
    label: string;
    data: { x: number; y: number | null }[];
    borderColor: string;
    backgroundColor?: string;
    borderDash?: number[];
    borderWidth?: number;
    showLine?: boolean;
    pointRadius: number;
  }
  const line = (id: string, datasets: LineSet[], yOptions: object) => {
    // The time series: the per-interval dots only mark the intervals that had lookups.
    for (const d of datasets) {
      if (d.showLine !== false) seriesLengths.push(d.data.filter((p) => p.y !== null).length);
    }
    charts.push(
      new Chart(canvasOf(id), {
        type: "line",
        data: { datasets },
        options: {
          ...base,
          parsing: true,
          spanGaps: false,
          scales: { x: timeScale, y: { beginAtZero: true, ...yOptions } },
        },
        plugins: [runEnd],
      }),
    );
  };
  const rate = (label: string, values: (number | null)[], color: string, dashed = false) => ({
    label,
    data: steps(values),
    borderColor: color,
    pointRadius: 0,
    ...(dashed ? { borderDash: [6, 4] } : {}),
  });
  // A hit rate per interval is a dot at the interval's middle: lookups are often too sparse for
  // its steps to be seen; the rate since the start joins them as a line.
  const interval = (label: string, values: (number | null)[], color: string) => ({
    label,
    data: values.flatMap((y, i) => (y === null ? [] : [{ x: (times[i]! + times[i + 1]!) / 2, y }])),
    borderColor: color,
    backgroundColor: color,
    showLine: false,
    pointRadius: 3,
  });
  const soFar = (label: string, values: (number | null)[], color: string) => ({
    label,
    data: atSamples(values),
    borderColor: color,
    borderWidth: 1.5,
    pointRadius: 0,
  });
  const gauge = (label: string, values: number[], color: string) => ({
    label,
    data: steps(values),
    borderColor: color,
    pointRadius: 0,
  });

  data.instances.forEach((instance, i) => {
    const sources = SOURCES.map((s) => rate(`${s} (truth)`, instance.truth[s], COLORS[s]));
    if (instance.reported !== null) {
      for (const s of SOURCES) {
        sources.push(rate(`${s} (${data.profile})`, instance.reported[s], COLORS[s], true));
      }
    } else {
      sources.push(
        rate(`all prompt tokens (${data.profile})`, instance.reportedTotal, "#7f7f7f", true),
      );
    }
    line(`sources-${i}`, sources, { title: { display: true, text: "tokens/s" } });
    line(
      `hits-${i}`,
      [
        interval("local, per interval", instance.prefixHitRate, "#2ca02c"),
        interval("external, per interval", instance.externalHitRate, "#1f77b4"),
        soFar("local, since the start", instance.prefixHitRateSoFar, "#2ca02c"),
        soFar("external, since the start", instance.externalHitRateSoFar, "#1f77b4"),
      ],
      { max: 1 },
    );
    line(`usage-${i}`, [gauge("KV-cache usage", instance.kvCacheUsage, "#ff7f0e")], { max: 1 });
    line(
      `queue-${i}`,
      [
        gauge("running", instance.running, "#2ca02c"),
        gauge("waiting", instance.waiting, "#d62728"),
      ],
      {},
    );
  });
  charts.push(
    new Chart(canvasOf("requests"), {
      type: "bar",
      data: {
        labels: data.requests.map((r) => `${r.id}@${r.instance}`),
        datasets: SOURCES.map((s) => ({
          label: s,
          data: data.requests.map((r) => r.sources[s]),
          backgroundColor: COLORS[s],
        })),
      },
      options: {
        ...base,
        scales: {
          x: { stacked: true },
          y: { stacked: true, title: { display: true, text: "prompt tokens" } },
        },
      },
    }),
  );
  const requests = [...new Set(data.spans.map((s) => s.request))];
  charts.push(
    new Chart(canvasOf("timeline"), {
      type: "bar",
      data: {
        labels: requests,
        datasets: Object.entries(PHASES).map(([phase, color]) => ({
          label: phase,
          data: data.spans
            .filter((s) => s.phase === phase)
            .map((s) => ({ x: [s.from, s.to], y: s.request })),
          backgroundColor: color,
          grouped: false,
        })),
      },
      options: {
        ...base,
        indexAxis: "y",
        scales: { x: { type: "linear", title: { display: true, text: "simulated s" } } },
      },
    }),
  );
  return {
    charts: charts.length,
    empty: charts.filter((c) => c.data.datasets.every((d) => d.data.every(isEmptyPoint))).length,
    fewestPoints: seriesLengths.length === 0 ? 0 : Math.min(...seriesLengths),
    intervals: data.times.length - 1,
    destroy: () => charts.forEach((c) => c.destroy()),
  };
}

/** A point of a line without a value, or nothing at all; a bar's value is never empty. */
const isEmptyPoint = (point: unknown): boolean =>
  point === null || (typeof point === "object" && "y" in point && point.y === null);
