// The periodic "Engine 000: Avg prompt throughput: …" line; mirrors vLLM's LoggingStatLogger
// (vllm/v1/metrics/loggers.py) for one engine, leaving out the spec-decode, KV-connector,
// CUDA-graph, MFU, multimodal-cache and corrupted-request parts and the engine-initialized line.

import type { IterationStats, SchedulerStats } from "../engine/stats.ts";
import { CachingMetrics } from "./caching-metrics.ts";
import { formatFixed, formatInt } from "./printf.ts";
import { DEFAULT_PROFILE, PROFILES, type Profile } from "../accounting/profiles.ts";

/** What one interval logs, as Python's logging gets it: a level and a message. */
export interface LogRecord {
  /** vLLM logs at DEBUG when this interval and the previous one both had zero throughput. */
  level: "info" | "debug";
  message: string;
}

export class LoggingStatLogger {
  private readonly prefixCaching = new CachingMetrics();
  private readonly connectorPrefixCaching = new CachingMetrics();

  private lastLogTime: number;
  private numPromptTokens = 0;
  private numGenerationTokens = 0;
  private numPreemptions = 0;
  private lastPromptThroughput = 0;
  private lastGenerationThroughput = 0;

  // Copied rather than kept by reference so that an engine reusing its stats objects cannot
  // change a line after the fact.
  private running = 0;
  private waiting = 0;
  private kvCacheUsage = 0;

  constructor(
    readonly engineIndex: number,
    startTime: number,
    /** Decides what the prompt throughput counts: every prompt token before vLLM #33290, computed ones after. */
    readonly profile: Profile = PROFILES[DEFAULT_PROFILE],
  ) {
    this.lastLogTime = startTime;
  }

  record(schedulerStats: SchedulerStats | null, iterationStats: IterationStats | null): void {
    if (iterationStats !== null) {
      // Since vLLM #33290, locally computed prompt tokens only: a decode instance that received
      // its prompt's KV shows (almost) no prompt throughput.
      for (const inputs of iterationStats.firstOutputs) {
        this.numPromptTokens += this.profile.formula(inputs).logPromptTokens;
      }
      this.numGenerationTokens += iterationStats.numGenerationTokens;
      this.numPreemptions += iterationStats.numPreemptedReqs;
    }
    if (schedulerStats !== null) {
      this.prefixCaching.observe(schedulerStats.prefixCacheStats);
      if (schedulerStats.connectorPrefixCacheStats !== null) {
        this.connectorPrefixCaching.observe(schedulerStats.connectorPrefixCacheStats);
      }
      this.running = schedulerStats.numRunningReqs;
      this.waiting = schedulerStats.numWaitingReqs;
      this.kvCacheUsage = schedulerStats.kvCacheUsage;
    }
  }

  /** Closes the interval that ends at `now` (simulated seconds) and returns its line. */
  log(now: number): LogRecord {
    const promptThroughput = this.throughput(this.numPromptTokens, now);
    const generationThroughput = this.throughput(this.numGenerationTokens, now);
    const preemptions = this.numPreemptions;
    const idle = !(
      promptThroughput ||
      generationThroughput ||
      this.lastPromptThroughput ||
      this.lastGenerationThroughput
    );
    this.lastPromptThroughput = promptThroughput;
    this.lastGenerationThroughput = generationThroughput;
    this.startInterval(now);

    const parts = [
      `Avg prompt throughput: ${formatFixed(promptThroughput, 1)} tokens/s`,
      `Avg generation throughput: ${formatFixed(generationThroughput, 1)} tokens/s`,
      `Running: ${formatInt(this.running)} reqs`,
      `Waiting: ${formatInt(this.waiting)} reqs`,
    ];
    // vLLM's code reads this counter after clearing it, so it never prints the part; pdsim
    // prints the interval's preemptions, as the line's format shows
    // (docs/vllm-reference.md#log-line).
    if (preemptions > 0) parts.push(`Preemptions: ${formatInt(preemptions)}`);
    parts.push(
      `GPU KV cache usage: ${formatFixed(this.kvCacheUsage * 100, 1)}%`,
      `Prefix cache hit rate: ${formatFixed(this.prefixCaching.hitRate * 100, 1)}%`,
    );
    if (!this.connectorPrefixCaching.empty) {
      const rate = formatFixed(this.connectorPrefixCaching.hitRate * 100, 1);
      parts.push(`External prefix cache hit rate: ${rate}%`);
    }
    return {
      level: idle ? "debug" : "info",
      message: enginePrefix(this.engineIndex) + parts.join(", "),
    };
  }

  private throughput(tokens: number, now: number): number {
    const elapsed = now - this.lastLogTime;
    return elapsed <= 0 ? 0 : tokens / elapsed;
  }

  private startInterval(now: number): void {
    this.lastLogTime = now;
    this.numPromptTokens = 0;
    this.numGenerationTokens = 0;
    this.numPreemptions = 0;
  }
}

/** Python's `"Engine {:03d}: "`: zero-padded to three characters, sign included. */
function enginePrefix(engineIndex: number): string {
  const digits = String(Math.abs(Math.trunc(engineIndex)));
  const padded = engineIndex < 0 ? `-${digits.padStart(2, "0")}` : digits.padStart(3, "0");
  return `Engine ${padded}: `;
}
