// Metric selectors as written in `expect` ('vllm:x_total{source="local_cache_hit"}'): a
// Prometheus sample name with optional equality label matchers.
import { z } from "zod";

export interface MetricSelector {
  name: string;
  labels: Record<string, string>;
}

export type SelectorParse = { ok: true; selector: MetricSelector } | { ok: false; reason: string };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** One matcher at the start of the rest: name, operator, a double-quoted value with escapes. */
const MATCHER = /^\s*([^\s=!~"]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*/;
const ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', n: "\n" };

export function parseMetricSelector(text: string): SelectorParse {
  const brace = text.indexOf("{");
  const name = (brace === -1 ? text : text.slice(0, brace)).trim();
  if (!METRIC_NAME.test(name)) {
    return { ok: false, reason: `'${name}' is not a metric name (letters, digits, '_', ':')` };
  }
  const labels: Record<string, string> = {};
  if (brace === -1) return { ok: true, selector: { name, labels } };
  if (!text.trimEnd().endsWith("}")) return { ok: false, reason: "the label matchers lack a '}'" };
  let rest = text.trimEnd().slice(brace + 1, -1);
  while (rest.trim() !== "") {
    const match = MATCHER.exec(rest);
    if (match === null) {
      return { ok: false, reason: `expected label="value" at '${rest.trim()}'` };
    }
    const [whole, label = "", operator = "", raw = ""] = match;
    if (!LABEL_NAME.test(label)) return { ok: false, reason: `'${label}' is not a label name` };
    if (operator !== "=") {
      return { ok: false, reason: `only '=' matchers are supported, got '${operator}'` };
    }
    if (Object.hasOwn(labels, label)) return { ok: false, reason: `label '${label}' given twice` };
    labels[label] = raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? `\\${c}`);
    rest = rest.slice(whole.length);
    if (rest.startsWith(",")) {
      rest = rest.slice(1);
      if (rest.trim() === "") return { ok: false, reason: "a ',' with no matcher after it" };
    } else if (rest.trim() !== "") {
      return { ok: false, reason: `expected ',' or '}' at '${rest.trim()}'` };
    }
  }
  return { ok: true, selector: { name, labels } };
}

/** A selector in a scenario or sweep file: kept as written, with its parse beside it. */
export const metricSelectorSchema = z
  .string()
  .describe("a metric selector such as 'vllm:prompt_tokens_total'")
  .transform((metric, ctx): { metric: string; selector: MetricSelector } => {
    const parsed = parseMetricSelector(metric);
    if (parsed.ok) return { metric, selector: parsed.selector };
    ctx.addIssue({
      code: "custom",
      message: `expected a metric selector like name{label="value"}, got '${metric}': ${parsed.reason}`,
    });
    return z.NEVER;
  });
