// What a self-contained HTML page needs to embed: Chart.js's browser bundle (so that the page
// draws offline), the run's charts (the playground's code, bundled), JSON data inside a
// <script> element, and escaped text.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

export function chartJsSource(): string {
  // chart.js exports no path to its browser bundle; it sits beside the CommonJS entry point.
  const entry = createRequire(import.meta.url).resolve("chart.js");
  const bundle = fs.readFileSync(path.join(path.dirname(entry), "chart.umd.min.js"), "utf8");
  return bundle.replace(/\n\/\/# sourceMappingURL=.*$/m, "");
}

/**
 * The playground's report-charts.ts as one script that defines the global `pdsimCharts`, bundled
 * once per process: report.html and the playground draw with the same code. It is browser code,
 * so it is read by its path rather than imported.
 */
export function reportChartsSource(): string {
  if (chartsBundle === null) {
    const entry = fileURLToPath(new URL("../playground/report-charts.ts", import.meta.url));
    const built = buildSync({
      entryPoints: [entry],
      bundle: true,
      format: "iife",
      globalName: "pdsimCharts",
      platform: "browser",
      target: "es2020",
      write: false,
      legalComments: "none",
      // Minified, the bundle names no path: the page is the same from any working directory.
      minify: true,
    });
    chartsBundle = built.outputFiles[0]!.text;
  }
  return chartsBundle;
}

let chartsBundle: string | null = null;

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export { escapeHtml } from "../util/html.ts";
