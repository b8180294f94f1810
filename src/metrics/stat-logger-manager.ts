// Fans one engine's stats out to its loggers; mirrors vLLM's StatLoggerManager
// (vllm/v1/metrics/loggers.py) for a single engine, leaving out data-parallel aggregation,
// custom logger plugins and sleep-state updates.

import type { IterationStats, SchedulerStats } from "../engine/stats.ts";
import { LoggingStatLogger, type LogRecord } from "./logging-stat-logger.ts";
import {
  PrometheusStatLogger,
  type PrometheusStatLoggerOptions,
} from "./prometheus-stat-logger.ts";

export interface StatLoggerManagerOptions extends PrometheusStatLoggerOptions {
  /** Simulated seconds at which the first logging interval starts. */
  startTime: number;
  /** vLLM's `--disable-log-stats` turns the logging logger off; Prometheus always stays. */
  enableLogging?: boolean;
}

export class StatLoggerManager {
  readonly prometheus: PrometheusStatLogger;
  readonly logging: LoggingStatLogger | null;

  constructor(options: StatLoggerManagerOptions) {
    this.prometheus = new PrometheusStatLogger(options);
    this.logging =
      options.enableLogging === false
        ? null
        : new LoggingStatLogger(options.engineIndex, options.startTime, options.profile);
  }

  record(schedulerStats: SchedulerStats | null, iterationStats: IterationStats | null): void {
    this.logging?.record(schedulerStats, iterationStats);
    this.prometheus.record(schedulerStats, iterationStats);
  }

  /** The line for the interval ending at `now`, or null when logging is disabled. */
  log(now: number): LogRecord | null {
    return this.logging === null ? null : this.logging.log(now);
  }
}
