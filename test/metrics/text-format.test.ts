import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MetricFamily } from "../../src/metrics/metric-family.ts";
import {
  escapeOpenMetricsHelp,
  formatValue,
  renderExposition,
  renderLabels,
} from "../../src/metrics/text-format.ts";

/** A reader of the 0.0.4 text format as Prometheus' own parser reads it (no timestamps). */
function parseExposition(text: string) {
  const helps = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === "HELP") helps.set(meta[2]!, unescape(meta[3]!, false));
      else types.set(meta[2]!, meta[3]!);
      continue;
    }
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === "{") {
      i += 1;
      while (line[i] !== "}") {
        const eq = line.indexOf("=", i);
        const label = line.slice(i, eq);
        expect(line[eq + 1]).toBe('"');
        let j = eq + 2;
        let raw = "";
        while (line[j] !== '"') {
          raw += line[j] === "\\" ? line[j++]! + line[j]! : line[j]!;
          j += 1;
        }
        labels[label] = unescape(raw, true);
        i = line[j + 1] === "," ? j + 2 : j + 1;
      }
      i += 1;
    }
    expect(line[i]).toBe(" ");
    samples.push({ name, labels, value: parseValue(line.slice(i + 1)) });
  }
  return { helps, types, samples };
}

function unescape(text: string, quotes: boolean): string {
  return text.replace(/\\(.)/g, (whole, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    return whole;
  });
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  expect(text).toMatch(/^-?\d+(\.\d+)?(e[-+]\d+)?$/);
  return Number(text);
}

// Every character a label value or HELP text must have escaped, among ordinary ones that must not be.
const tricky = fc
  .array(fc.constantFrom("\\", "\n", '"', "a", "é", "{", "}", ",", "=", " ", "#", "😀", "n"), {
    maxLength: 8,
  })
  .map((chars) => chars.join(""));

describe("the Prometheus text format 0.0.4", () => {
  it("renders families in the layout .prom files have always had", () => {
    const counter = new MetricFamily({
      name: "vllm:x_total",
      help: 'Help with a \\ and a\nnewline and a "quote".',
      type: "counter",
      labelNames: ["model_name", "source"],
    });
    counter.labels({ source: 'a"b', model_name: "m\\n" }).inc(3);
    const histogram = new MetricFamily({
      name: "vllm:h",
      help: "A histogram.",
      type: "histogram",
      labelNames: ["engine"],
      buckets: [0.5, 1],
    });
    histogram.labels({ engine: "0" }).observeAll([0.25, 1, 7]);
    const gauge = new MetricFamily({ name: "g", help: "", type: "gauge", labelNames: [] });
    gauge.labels({}).set(-Infinity);

    expect(renderExposition([counter, histogram, gauge])).toBe(
      [
        '# HELP vllm:x_total Help with a \\\\ and a\\nnewline and a "quote".',
        "# TYPE vllm:x_total counter",
        'vllm:x_total{model_name="m\\\\n",source="a\\"b"} 3',
        "",
        "# HELP vllm:h A histogram.",
        "# TYPE vllm:h histogram",
        'vllm:h_bucket{engine="0",le="0.5"} 1',
        'vllm:h_bucket{engine="0",le="1"} 2',
        'vllm:h_bucket{engine="0",le="+Inf"} 3',
        'vllm:h_sum{engine="0"} 8.25',
        'vllm:h_count{engine="0"} 3',
        "",
        "# HELP g ",
        "# TYPE g gauge",
        "g -Inf",
        "",
      ].join("\n"),
    );
  });

  it("spells a NaN gauge as the format does (prom-client wrote `Nan`)", () => {
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(1e-7)).toBe("1e-7");
    expect(formatValue(0.1 + 0.2)).toBe("0.30000000000000004");
  });

  it("shows a series bound after an earlier exposition", () => {
    const family = new MetricFamily({
      name: "c_total",
      help: "h",
      type: "counter",
      labelNames: ["k"],
    });
    family.labels({ k: "a" }).inc();
    expect(renderExposition([family])).not.toContain('k="b"');
    family.labels({ k: "b" }).inc(2);
    expect(renderExposition([family])).toContain('c_total{k="a"} 1\nc_total{k="b"} 2\n');
  });

  it("reads back as every sample's name, labels and value, whatever the label values hold", () => {
    const seen = { backslash: 0, newline: 0, quote: 0 };
    fc.assert(
      fc.property(
        tricky,
        fc.uniqueArray(tricky, { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.double().map((v) => (Object.is(v, -0) ? 0 : v)),
          { minLength: 4, maxLength: 4 },
        ),
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 6 }),
        (help, values, gaugeValues, observations) => {
          for (const v of values) {
            if (v.includes("\\")) seen.backslash += 1;
            if (v.includes("\n")) seen.newline += 1;
            if (v.includes('"')) seen.quote += 1;
          }
          const gauge = new MetricFamily({
            name: "pdsim:g",
            help,
            type: "gauge",
            labelNames: ["v", "w"],
          });
          values.forEach((v, i) => gauge.labels({ v, w: String(i) }).set(gaugeValues[i] ?? 0));
          const histogram = new MetricFamily({
            name: "pdsim:h",
            help,
            type: "histogram",
            labelNames: ["v"],
            buckets: [-1, 0, 2.5],
          });
          histogram.labels({ v: values[0]! }).observeAll(observations);

          const parsed = parseExposition(renderExposition([gauge, histogram]));
          expect(parsed.helps.get("pdsim:g")).toBe(help);
          expect(parsed.types.get("pdsim:h")).toBe("histogram");
          const expected = [...gauge.samples(), ...histogram.samples()];
          expect(parsed.samples.map((s) => [s.name, s.labels])).toEqual(
            expected.map((s) => [s.name, s.labels]),
          );
          parsed.samples.forEach((s, i) => expect(s.value).toBe(expected[i]!.value));
        },
      ),
      { numRuns: 300, seed: 17 },
    );
    // The generator must reach the characters that need escaping, or the test proves nothing.
    expect(Math.min(seen.backslash, seen.newline, seen.quote)).toBeGreaterThan(50);
  });

  it("escapes label values the same way in both formats, and quotes only in OpenMetrics HELP", () => {
    expect(renderLabels({ a: 'x\\y\n"z' })).toBe('{a="x\\\\y\\n\\"z"}');
    expect(renderLabels({})).toBe("");
    expect(escapeOpenMetricsHelp('say "hi"\\')).toBe('say \\"hi\\"\\\\');
  });
});
