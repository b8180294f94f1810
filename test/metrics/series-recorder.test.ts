// The scraped time series as OpenMetrics: what `promtool tsdb create-blocks-from openmetrics`
// reads (the integration test feeds it to a real Prometheus; these check the text itself).
import { describe, expect, it } from "vitest";
import { PrometheusStatLogger } from "../../src/metrics/prometheus-stat-logger.ts";
import { SeriesRecorder } from "../../src/metrics/series-recorder.ts";
import { finishedRequest, iterationStats, schedulerStats } from "./stats-builders.ts";

const options = { modelName: "m", engineIndex: 0, maxModelLen: 4096, maxNumBatchedTokens: 2048 };
const START_MS = Date.parse("2026-01-01T00:00:00Z");

function render(recorder: SeriesRecorder, job = "pdsim"): string {
  const chunks: string[] = [];
  recorder.writeOpenMetrics((c) => chunks.push(c), { startMs: START_MS, job });
  return chunks.join("");
}

/** Two instances scraped at 0 s, 15 s and 15.0005 s, with a finished request before 15 s. */
function recorded(): { text: string; a: PrometheusStatLogger } {
  const a = new PrometheusStatLogger(options);
  const b = new PrometheusStatLogger(options);
  const recorder = new SeriesRecorder([
    { instance: "a", exposition: a },
    { instance: "b", exposition: b },
  ]);
  recorder.scrape(0);
  a.record(
    schedulerStats({ numRunningReqs: 2 }),
    iterationStats({
      numGenerationTokens: 7,
      finishedRequests: [finishedRequest({ e2eLatency: 0.3 })],
    }),
  );
  recorder.scrape(15_000_000);
  a.record(schedulerStats({ numRunningReqs: 3 }), null);
  // Within the same millisecond: replaces the scrape before, as Prometheus keeps milliseconds.
  recorder.scrape(15_000_500);
  return { text: render(recorder), a };
}

describe("SeriesRecorder", () => {
  it("names counter families without _total and their samples with it, as OpenMetrics does", () => {
    const { text } = recorded();
    expect(text).toContain("# TYPE vllm:generation_tokens counter\n");
    expect(text).toContain(
      "# HELP vllm:generation_tokens Number of generation tokens processed.\n",
    );
    expect(text).toMatch(
      /^vllm:generation_tokens_total\{model_name="m",engine="0",instance="a",job="pdsim"\} 7 1767225615$/m,
    );
    expect(text).not.toContain("# TYPE vllm:generation_tokens_total");
  });

  it("keeps each family in one block and each series' points in time order, with millisecond timestamps", () => {
    const { text } = recorded();
    const lines = text.split("\n");
    const running = lines.filter((l) => l.startsWith("vllm:num_requests_running{"));
    expect(running).toEqual([
      'vllm:num_requests_running{model_name="m",engine="0",instance="a",job="pdsim"} 0 1767225600',
      // The 15.0005 s scrape, in the 15 000th millisecond, replaced the 15 s one.
      'vllm:num_requests_running{model_name="m",engine="0",instance="a",job="pdsim"} 3 1767225615',
      'vllm:num_requests_running{model_name="m",engine="0",instance="b",job="pdsim"} 0 1767225600',
      'vllm:num_requests_running{model_name="m",engine="0",instance="b",job="pdsim"} 0 1767225615',
    ]);
    const typeLines = lines.filter((l) => l.startsWith("# TYPE "));
    expect(new Set(typeLines).size).toBe(typeLines.length);
  });

  it("writes a histogram's point as its buckets, then _count, then _sum, at one timestamp", () => {
    const { text } = recorded();
    const point = text
      .split("\n")
      .filter((l) => l.startsWith("vllm:e2e_request_latency_seconds") && l.includes('instance="a"'))
      .filter((l) => l.endsWith(" 1767225615"))
      .map((l) => {
        const le = /le="([^"]+)"/.exec(l)?.[1];
        return l.replace(/\{.*\}/, le === undefined ? "" : `{le="${le}"}`);
      });
    expect(point.at(-2)).toBe("vllm:e2e_request_latency_seconds_count 1 1767225615");
    expect(point.at(-1)).toBe("vllm:e2e_request_latency_seconds_sum 0.3 1767225615");
    expect(point.at(-3)).toBe('vllm:e2e_request_latency_seconds_bucket{le="+Inf"} 1 1767225615');
    expect(
      point.slice(0, -2).every((l) => l.startsWith("vllm:e2e_request_latency_seconds_bucket{")),
    ).toBe(true);
  });

  it("ends with # EOF and uses the job it is given", () => {
    const a = new PrometheusStatLogger(options);
    const recorder = new SeriesRecorder([{ instance: "x", exposition: a }]);
    recorder.scrape(1_500);
    const text = render(recorder, "vllm-pd");
    expect(text.endsWith("\n# EOF\n")).toBe(true);
    expect(text).toContain('instance="x",job="vllm-pd"} 0 1767225600.001\n');
  });

  it("refuses a scrape before the one before", () => {
    const recorder = new SeriesRecorder([
      { instance: "x", exposition: new PrometheusStatLogger(options) },
    ]);
    recorder.scrape(10_000);
    expect(() => recorder.scrape(9_999)).toThrow(/before the last scrape/);
  });

  it("starts a series that appears later at the scrape it appeared in", () => {
    const a = new PrometheusStatLogger(options);
    const recorder = new SeriesRecorder([{ instance: "x", exposition: a }]);
    recorder.scrape(0);
    a.addFamily({
      name: "test:late_total",
      help: "late",
      type: "counter",
      labelNames: ["model_name", "engine"],
    });
    a.bind("test:late_total", "counter").inc(3);
    recorder.scrape(15_000_000);
    const late = render(recorder)
      .split("\n")
      .filter((l) => l.startsWith("test:late_total"));
    expect(late).toEqual([
      'test:late_total{model_name="m",engine="0",instance="x",job="pdsim"} 3 1767225615',
    ]);
  });

  it("writes a long history in chunks of whole lines, with every point once and in order", () => {
    const a = new PrometheusStatLogger(options);
    const recorder = new SeriesRecorder([{ instance: "x", exposition: a }]);
    const scrapes = 200; // a few hundred samples a scrape: tens of thousands of lines in all
    for (let i = 0; i < scrapes; i++) {
      a.record(schedulerStats({ numRunningReqs: i }), null);
      recorder.scrape(i * 15_000_000);
    }
    const chunks: string[] = [];
    recorder.writeOpenMetrics((c) => chunks.push(c), { startMs: START_MS, job: "pdsim" });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.endsWith("\n")).toBe(true);
    const lines = chunks.join("").split("\n");
    expect(lines.at(-2)).toBe("# EOF");
    const running = lines.filter((l) => l.startsWith("vllm:num_requests_running{"));
    expect(running.map((l) => Number(l.split(" ")[1]))).toEqual(
      Array.from({ length: scrapes }, (_, i) => i),
    );
    // Each family's TYPE line once, whatever chunk it fell in.
    const types = lines.filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
  });
});
