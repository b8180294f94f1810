import { describe, expect, it } from "vitest";
import { PrometheusStatLogger } from "../../src/metrics/prometheus-stat-logger.ts";
import { PROFILES } from "../../src/accounting/profiles.ts";
import {
  finishedRequest,
  firstOutput,
  iterationStats,
  prefixStats,
  schedulerStats,
} from "./stats-builders.ts";

const options = { modelName: "m", engineIndex: 0, maxModelLen: 4096, maxNumBatchedTokens: 2048 };
const ENGINE = { model_name: "m", engine: "0" };

// [name, type, HELP], written out from vLLM's loggers.py (docs/vllm-reference.md#metrics), in
// vLLM's order.
const FAMILIES: [string, string, string][] = [
  ["vllm:num_requests_running", "gauge", "Number of requests in model execution batches."],
  ["vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed."],
  [
    "vllm:engine_sleep_state",
    "gauge",
    "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
  ],
  ["vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage."],
  [
    "vllm:prefix_cache_queries_total",
    "counter",
    "Prefix cache queries, in terms of number of queried tokens.",
  ],
  [
    "vllm:prefix_cache_hits_total",
    "counter",
    "Prefix cache hits, in terms of number of cached tokens.",
  ],
  [
    "vllm:external_prefix_cache_queries_total",
    "counter",
    "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
  ],
  [
    "vllm:external_prefix_cache_hits_total",
    "counter",
    "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
  ],
  [
    "vllm:mm_cache_queries_total",
    "counter",
    "Multi-modal cache queries, in terms of number of queried items.",
  ],
  [
    "vllm:mm_cache_hits_total",
    "counter",
    "Multi-modal cache hits, in terms of number of cached items.",
  ],
  ["vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine."],
  ["vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed."],
  // The default profile's (current vLLM's) prompt-token-source families.
  ["vllm:prompt_tokens_by_source_total", "counter", "Number of prompt tokens by source."],
  [
    "vllm:prompt_tokens_cached_total",
    "counter",
    "Number of cached prompt tokens (local + external).",
  ],
  ["vllm:generation_tokens_total", "counter", "Number of generation tokens processed."],
  ["vllm:request_success_total", "counter", "Count of successfully processed requests."],
  ["vllm:request_prompt_tokens", "histogram", "Number of prefill tokens processed."],
  ["vllm:request_generation_tokens", "histogram", "Number of generation tokens processed."],
  ["vllm:iteration_tokens_total", "histogram", "Histogram of number of tokens per engine_step."],
  [
    "vllm:request_max_num_generation_tokens",
    "histogram",
    "Histogram of maximum number of requested generation tokens.",
  ],
  ["vllm:request_params_n", "histogram", "Histogram of the n request parameter."],
  ["vllm:request_params_max_tokens", "histogram", "Histogram of the max_tokens request parameter."],
  ["vllm:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds."],
  ["vllm:inter_token_latency_seconds", "histogram", "Histogram of inter-token latency in seconds."],
  [
    "vllm:request_time_per_output_token_seconds",
    "histogram",
    "Histogram of time_per_output_token_seconds per request.",
  ],
  ["vllm:e2e_request_latency_seconds", "histogram", "Histogram of e2e request latency in seconds."],
  [
    "vllm:request_queue_time_seconds",
    "histogram",
    "Histogram of time spent in WAITING phase for request.",
  ],
  [
    "vllm:request_inference_time_seconds",
    "histogram",
    "Histogram of time spent in RUNNING phase for request.",
  ],
  [
    "vllm:request_prefill_time_seconds",
    "histogram",
    "Histogram of time spent in PREFILL phase for request.",
  ],
  [
    "vllm:request_decode_time_seconds",
    "histogram",
    "Histogram of time spent in DECODE phase for request.",
  ],
  [
    "vllm:request_prefill_kv_computed_tokens",
    "histogram",
    "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
  ],
];

// pdsim's own families, after vLLM's.
const PDSIM_FAMILIES: [string, string, string][] = [
  [
    "pdsim:exporter_errors_total",
    "counter",
    "Counter increments the selected vLLM version's exporter would have refused (negative amounts), by metric.",
  ],
];

const TOKENS_4096 = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];
const TTFT = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];
const ITL = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
const LATENCY = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];
const BUCKETS: Record<string, number[]> = {
  "vllm:request_prompt_tokens": TOKENS_4096,
  "vllm:request_generation_tokens": TOKENS_4096,
  "vllm:iteration_tokens_total": [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
  "vllm:request_max_num_generation_tokens": TOKENS_4096,
  "vllm:request_params_n": [1, 2, 5, 10, 20],
  "vllm:request_params_max_tokens": TOKENS_4096,
  "vllm:time_to_first_token_seconds": TTFT,
  "vllm:inter_token_latency_seconds": ITL,
  "vllm:request_time_per_output_token_seconds": ITL,
  "vllm:e2e_request_latency_seconds": LATENCY,
  "vllm:request_queue_time_seconds": LATENCY,
  "vllm:request_inference_time_seconds": LATENCY,
  "vllm:request_prefill_time_seconds": LATENCY,
  "vllm:request_decode_time_seconds": LATENCY,
  "vllm:request_prefill_kv_computed_tokens": TOKENS_4096,
};

const REQUEST_HISTOGRAMS = [
  "vllm:e2e_request_latency_seconds",
  "vllm:request_queue_time_seconds",
  "vllm:request_prefill_time_seconds",
  "vllm:request_decode_time_seconds",
  "vllm:request_inference_time_seconds",
  "vllm:request_prompt_tokens",
  "vllm:request_generation_tokens",
  "vllm:request_params_max_tokens",
  "vllm:request_prefill_kv_computed_tokens",
  "vllm:request_time_per_output_token_seconds",
];

function bucketBounds(text: string, family: string): string[] {
  const pattern = new RegExp(`^${family}_bucket\\{model_name="m",engine="0",le="([^"]+)"\\} `);
  return text.split("\n").flatMap((line) => pattern.exec(line)?.[1] ?? []);
}

describe("PrometheusStatLogger exposition", () => {
  it("holds exactly vLLM's families, in order, with their HELP and TYPE lines, then pdsim's", async () => {
    const text = new PrometheusStatLogger(options).exposition();
    const headers = text.split("\n").filter((line) => line.startsWith("# "));
    expect(headers).toEqual(
      [...FAMILIES, ...PDSIM_FAMILIES].flatMap(([name, type, help]) => [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} ${type}`,
      ]),
    );
  });

  it("labels every sample with model_name and engine", async () => {
    const logger = new PrometheusStatLogger({ ...options, modelName: "llama", engineIndex: 3 });
    const samples = logger
      .exposition()
      .split("\n")
      .filter((l) => /^vllm:/.test(l));
    expect(samples.length).toBeGreaterThan(FAMILIES.length);
    for (const line of samples) expect(line).toMatch(/^[^{]+\{model_name="llama",engine="3"[,}]/);
  });

  it("pre-creates request_success for all four finish reasons at 0", async () => {
    const text = new PrometheusStatLogger(options).exposition();
    const lines = text.split("\n").filter((l) => l.startsWith("vllm:request_success_total"));
    expect(lines).toEqual(
      ["stop", "length", "abort", "error"].map(
        (reason) =>
          `vllm:request_success_total{model_name="m",engine="0",finished_reason="${reason}"} 0`,
      ),
    );
  });

  it("shows an awake engine in engine_sleep_state", () => {
    const logger = new PrometheusStatLogger(options);
    const state = (s: string) => logger.sampleValue("vllm:engine_sleep_state", { sleep_state: s });
    expect([state("awake"), state("weights_offloaded"), state("discard_all")]).toEqual([1, 0, 0]);
  });

  it("uses vLLM's bucket boundaries for every histogram, token counts up to max_model_len", async () => {
    const text = new PrometheusStatLogger(options).exposition();
    for (const [family, bounds] of Object.entries(BUCKETS)) {
      expect(bucketBounds(text, family), family).toEqual([...bounds.map(String), "+Inf"]);
    }
  });

  it("exports cache_config_info only when given, labelled by its fields then engine", async () => {
    expect(new PrometheusStatLogger(options).exposition()).not.toContain("cache_config");
    const logger = new PrometheusStatLogger({
      ...options,
      cacheConfigInfo: { block_size: "16", enable_prefix_caching: "True" },
    });
    const text = logger.exposition();
    expect(text).toContain(
      "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n" +
        "# TYPE vllm:cache_config_info gauge\n" +
        'vllm:cache_config_info{block_size="16",enable_prefix_caching="True",engine="0"} 1',
    );
  });

  it("uses its own registry, so two instances never collide", async () => {
    const a = new PrometheusStatLogger(options);
    const b = new PrometheusStatLogger({ ...options, engineIndex: 1 });
    a.record(null, iterationStats({ numPromptTokens: 5, firstOutputs: [firstOutput(5)] }));
    expect(a.sampleValue("vllm:prompt_tokens_total")).toBe(5);
    expect(b.sampleValue("vllm:prompt_tokens_total")).toBe(0);
    expect(b.exposition()).not.toContain("process_cpu");
  });
});

describe("PrometheusStatLogger.record", () => {
  it("sets the gauges from the latest scheduler stats", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(
      schedulerStats({ numRunningReqs: 4, numWaitingReqs: 2, kvCacheUsage: 0.5 }),
      null,
    );
    logger.record(
      schedulerStats({ numRunningReqs: 3, numWaitingReqs: 0, kvCacheUsage: 0.25 }),
      null,
    );
    expect(logger.sampleValue("vllm:num_requests_running")).toBe(3);
    expect(logger.sampleValue("vllm:num_requests_waiting")).toBe(0);
    expect(logger.sampleValue("vllm:kv_cache_usage_perc")).toBe(0.25);
  });

  it("accumulates counters across records", () => {
    const logger = new PrometheusStatLogger(options);
    for (let i = 0; i < 3; i++) {
      logger.record(
        schedulerStats({ prefixCacheStats: prefixStats(1, 100, 48) }),
        iterationStats({
          numPromptTokens: 100,
          firstOutputs: [firstOutput(100)],
          numGenerationTokens: 7,
          numPreemptedReqs: 1,
        }),
      );
    }
    expect(logger.sampleValue("vllm:prefix_cache_queries_total")).toBe(300);
    expect(logger.sampleValue("vllm:prefix_cache_hits_total")).toBe(144);
    expect(logger.sampleValue("vllm:prompt_tokens_total")).toBe(300);
    expect(logger.sampleValue("vllm:generation_tokens_total")).toBe(21);
    expect(logger.sampleValue("vllm:num_preemptions_total")).toBe(3);
  });

  it("moves the external prefix-cache counters only with connector stats", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(schedulerStats({ prefixCacheStats: prefixStats(1, 64, 16) }), null);
    expect(logger.sampleValue("vllm:external_prefix_cache_queries_total")).toBe(0);
    logger.record(schedulerStats({ connectorPrefixCacheStats: prefixStats(1, 48, 40) }), null);
    expect(logger.sampleValue("vllm:external_prefix_cache_queries_total")).toBe(48);
    expect(logger.sampleValue("vllm:external_prefix_cache_hits_total")).toBe(40);
    expect(logger.sampleValue("vllm:prefix_cache_queries_total")).toBe(64);
  });

  it("observes prompt plus generation tokens of the iteration once per record", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(null, iterationStats({ numPromptTokens: 1000, numGenerationTokens: 30 }));
    logger.record(null, iterationStats());
    const bucket = (le: string) => logger.sampleValue("vllm:iteration_tokens_total_bucket", { le });
    expect(logger.sampleValue("vllm:iteration_tokens_total_count")).toBe(2);
    expect(logger.sampleValue("vllm:iteration_tokens_total_sum")).toBe(1030);
    expect([bucket("1"), bucket("1024"), bucket("2048")]).toEqual([1, 1, 2]);
  });

  it("observes every TTFT, inter-token latency, n and max-generation value of the iteration", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(
      null,
      iterationStats({
        timeToFirstTokensIter: [0.05, 0.3],
        interTokenLatenciesIter: [0.02, 0.02, 0.5],
        nParamsIter: [1],
        maxNumGenerationTokensIter: [128],
      }),
    );
    expect(logger.sampleValue("vllm:time_to_first_token_seconds_count")).toBe(2);
    expect(logger.sampleValue("vllm:time_to_first_token_seconds_sum")).toBeCloseTo(0.35, 12);
    expect(logger.sampleValue("vllm:inter_token_latency_seconds_bucket", { le: "0.025" })).toBe(2);
    expect(logger.sampleValue("vllm:inter_token_latency_seconds_bucket", { le: "0.5" })).toBe(3);
    expect(logger.sampleValue("vllm:request_params_n_count")).toBe(1);
    expect(logger.sampleValue("vllm:request_max_num_generation_tokens_sum")).toBe(128);
  });

  it("updates each request histogram once per finished request", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(null, iterationStats({ finishedRequests: [finishedRequest()] }));
    for (const family of REQUEST_HISTOGRAMS) {
      expect(logger.sampleValue(`${family}_count`), family).toBe(1);
    }
    expect(logger.sampleValue("vllm:e2e_request_latency_seconds_sum")).toBe(1.2);
    expect(logger.sampleValue("vllm:request_queue_time_seconds_sum")).toBe(0.1);
    expect(logger.sampleValue("vllm:request_prefill_time_seconds_sum")).toBe(0.2);
    expect(logger.sampleValue("vllm:request_decode_time_seconds_sum")).toBe(0.9);
    expect(logger.sampleValue("vllm:request_inference_time_seconds_sum")).toBe(1.1);
    expect(logger.sampleValue("vllm:request_prompt_tokens_sum")).toBe(100);
    expect(logger.sampleValue("vllm:request_generation_tokens_sum")).toBe(10);
    expect(logger.sampleValue("vllm:request_params_max_tokens_sum")).toBe(16);
    expect(logger.sampleValue("vllm:request_time_per_output_token_seconds_sum")).toBe(0.09);
    expect(logger.sampleValue("vllm:request_prefill_kv_computed_tokens_sum")).toBe(100 - 32);
    expect(logger.sampleValue("vllm:request_success_total", { finished_reason: "stop" })).toBe(1);
  });

  it("counts each finished request under its own finish reason", () => {
    const logger = new PrometheusStatLogger(options);
    const reasons = ["length", "abort", "length", "error"] as const;
    const finishedRequests = reasons.map((finishReason) => finishedRequest({ finishReason }));
    logger.record(null, iterationStats({ finishedRequests }));
    const success = (reason: string) =>
      logger.sampleValue("vllm:request_success_total", { finished_reason: reason });
    expect(["stop", "length", "abort", "error"].map(success)).toEqual([0, 2, 1, 1]);
  });

  it("counts a request that never ran (cached −1) as computing its whole prompt", () => {
    const logger = new PrometheusStatLogger(options);
    const never = finishedRequest({
      numPromptTokens: 70,
      promptTokenInputs: {
        requestId: "r0",
        numPromptTokens: 70,
        numCachedTokens: -1,
        numExternalComputedTokens: 0,
        prefillStats: null,
      },
    });
    logger.record(null, iterationStats({ finishedRequests: [never] }));
    expect(logger.sampleValue("vllm:request_prefill_kv_computed_tokens_sum")).toBe(70);
  });

  it("skips the max_tokens histogram when max_tokens is 0, as vLLM skips a falsy value", () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(
      null,
      iterationStats({ finishedRequests: [finishedRequest({ maxTokensParam: 0 })] }),
    );
    expect(logger.sampleValue("vllm:request_params_max_tokens_count")).toBe(0);
    expect(logger.sampleValue("vllm:e2e_request_latency_seconds_count")).toBe(1);
  });

  it("fails loudly on a negative counter increment, as prometheus_client does", () => {
    // The prompt-token families report a version's negative sums instead (test/accounting/).
    const logger = new PrometheusStatLogger(options);
    expect(() => logger.record(null, iterationStats({ numGenerationTokens: -1 }))).toThrow(
      /Counters can only be incremented by non-negative amounts: vllm:generation_tokens_total/,
    );
  });

  it("shows recorded values in the exposition text", async () => {
    const logger = new PrometheusStatLogger(options);
    logger.record(null, iterationStats({ numPromptTokens: 12, firstOutputs: [firstOutput(12)] }));
    expect(logger.exposition()).toContain(
      'vllm:prompt_tokens_total{model_name="m",engine="0"} 12\n',
    );
  });
});

describe("an exposition that shares another's common families", () => {
  // A first output of N = 100 with 16 tokens hit locally and 32 loaded, then a decode step.
  const steps = [
    [
      schedulerStats({ numRunningReqs: 2, prefixCacheStats: prefixStats(1, 100, 16) }),
      iterationStats({
        numPromptTokens: 100,
        firstOutputs: [firstOutput(100, { local: 16, external: 32 })],
        interTokenLatenciesIter: [0.02, 0.3],
        finishedRequests: [finishedRequest()],
      }),
    ],
    [schedulerStats({ numRunningReqs: 1 }), iterationStats({ numGenerationTokens: 3 })],
  ] as const;

  function feed(...loggers: PrometheusStatLogger[]): void {
    for (const [scheduler, iteration] of steps) {
      for (const logger of loggers) logger.record(scheduler, iteration);
    }
  }

  it("shows exactly what recording everything itself would, common families recorded once", async () => {
    const primary = new PrometheusStatLogger(options);
    const sharing = new PrometheusStatLogger({
      ...options,
      profile: PROFILES["vllm-pr33290"],
      sharesCommonFamiliesOf: primary,
    });
    const alone = new PrometheusStatLogger({ ...options, profile: PROFILES["vllm-pr33290"] });
    feed(primary, sharing);
    feed(alone);
    expect(sharing.exposition()).toBe(alone.exposition());
    expect(sharing.sampleValue("vllm:inter_token_latency_seconds_count")).toBe(2);
    expect(sharing.sampleValue("vllm:prompt_tokens_recomputed_total")).toBeDefined();
    expect(primary.sampleValue("vllm:prompt_tokens_recomputed_total")).toBeUndefined();
  });
});

describe("PrometheusStatLogger.sampleValue", () => {
  it("sums every series whose labels include the given ones", () => {
    const logger = new PrometheusStatLogger(options);
    const finishedRequests = [finishedRequest(), finishedRequest({ finishReason: "abort" })];
    logger.record(null, iterationStats({ finishedRequests }));
    expect(logger.sampleValue("vllm:request_success_total")).toBe(2);
    expect(logger.sampleValue("vllm:request_success_total", ENGINE)).toBe(2);
    expect(logger.sampleValue("vllm:request_success_total", { finished_reason: "abort" })).toBe(1);
  });

  it("is undefined for an unknown sample or labels no series has", () => {
    const logger = new PrometheusStatLogger(options);
    expect(logger.sampleValue("vllm:no_such_metric")).toBeUndefined();
    expect(logger.sampleValue("vllm:prompt_tokens")).toBeUndefined();
    expect(logger.sampleValue("vllm:prompt_tokens_total", { engine: "1" })).toBeUndefined();
  });

  it("lists counter, gauge and histogram sample names as exposed", () => {
    const names = new PrometheusStatLogger(options).sampleNames();
    expect(names).toContain("vllm:num_preemptions_total");
    expect(names).toContain("vllm:kv_cache_usage_perc");
    expect(names).toContain("vllm:e2e_request_latency_seconds_bucket");
    expect(names).toContain("vllm:e2e_request_latency_seconds_sum");
    expect(names).toContain("vllm:e2e_request_latency_seconds_count");
    expect(names).not.toContain("vllm:e2e_request_latency_seconds");
    // 16 vLLM counters and gauges, pdsim:exporter_errors_total, 15 histograms of 3 samples each.
    expect(names).toHaveLength(16 + 1 + 15 * 3);
  });
});
