// What a self-contained HTML page needs to embed: Chart.js's browser bundle (so that the page
// draws offline), JSON data inside a <script> element, and escaped text.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

export function chartJsSource(): string {
  // chart.js exports no path to its browser bundle; it sits beside the CommonJS entry point.
  const entry = createRequire(import.meta.url).resolve("chart.js");
  const bundle = fs.readFileSync(path.join(path.dirname(entry), "chart.umd.min.js"), "utf8");
  return bundle.replace(/\n\/\/# sourceMappingURL=.*$/m, "");
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
