// The metrics package: the per-instance stat loggers of vllm/v1/metrics/loggers.py and the
// pieces they are built from.

export {
  build1_2_5Buckets,
  buildBuckets,
  INTER_TOKEN_LATENCY_BUCKETS,
  ITERATION_TOKENS_BUCKETS,
  REQUEST_LATENCY_BUCKETS,
  REQUEST_PARAMS_N_BUCKETS,
  TIME_TO_FIRST_TOKEN_BUCKETS,
} from "./buckets.ts";
export { CachingMetrics, type CacheStatsBatch } from "./caching-metrics.ts";
export { LoggingStatLogger, type LogRecord } from "./logging-stat-logger.ts";
export {
  CounterSeries,
  GaugeSeries,
  HistogramSeries,
  MetricFamily,
  type FamilyDef,
  type FamilyType,
  type Labels,
  type Sample,
} from "./metric-family.ts";
export { formatFixed, formatInt } from "./printf.ts";
export {
  PrometheusStatLogger,
  type PrometheusStatLoggerOptions,
} from "./prometheus-stat-logger.ts";
export { StatLoggerManager, type StatLoggerManagerOptions } from "./stat-logger-manager.ts";
export {
  cacheConfigInfoFamily,
  ENGINE_LABEL_NAMES,
  SLEEP_STATES,
  vllmFamilies,
} from "./vllm-families.ts";
