// The Prometheus text formats pdsim writes: each instance's exposition in format 0.0.4 (what a
// scrape of vLLM's /metrics returns) and the scrape history in OpenMetrics 1.0. The two share
// how labels and values are written; they differ in how HELP text is escaped (0.0.4 leaves
// double quotes alone) and in OpenMetrics' counter naming and `# EOF`.
//
// The 0.0.4 layout is prom-client 15's (a blank line between families), which pdsim used to
// render with: `.prom` files keep the bytes they had (test/metrics/text-format.test.ts holds
// the two side by side).

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** What the 0.0.4 renderer reads of a family (MetricFamily is one). */
export interface ExposedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  /** Each sample's `name{labels}`, rendered with `renderLabels`. */
  sampleKeys(): readonly string[];
  /** Each sample's value, in the order of `sampleKeys()`. */
  sampleValues(): readonly number[];
}

/** A label value as both formats quote it: backslash, newline and double quote escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** `{a="x",b="y"}` in the labels' own order; nothing for no labels. */
export function renderLabels(labels: Labels): string {
  let out = "";
  for (const name in labels) {
    out += `${out === "" ? "{" : ","}${name}="${escapeLabelValue(labels[name]!)}"`;
  }
  return out === "" ? "" : `${out}}`;
}

/** A sample value: JavaScript's shortest round-trip form, and the formats' names for the rest. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** HELP text in format 0.0.4: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** HELP text in OpenMetrics, which escapes double quotes too. */
export function escapeOpenMetricsHelp(text: string): string {
  return escapeHelp(text).replace(/"/g, '\\"');
}

/** The families in Prometheus text format 0.0.4, in the order given. */
export function renderExposition(families: Iterable<ExposedFamily>): string {
  const blocks: string[] = [];
  for (const family of families) {
    let block = `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}`;
    const keys = family.sampleKeys();
    const values = family.sampleValues();
    for (let i = 0; i < keys.length; i++) block += `\n${keys[i]} ${formatValue(values[i]!)}`;
    blocks.push(block);
  }
  return `${blocks.join("\n\n")}\n`;
}
