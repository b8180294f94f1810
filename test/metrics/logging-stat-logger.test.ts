import { describe, expect, it } from "vitest";
import { LoggingStatLogger } from "../../src/metrics/logging-stat-logger.ts";
import { firstOutput, iterationStats, prefixStats, schedulerStats } from "./stats-builders.ts";

describe("LoggingStatLogger.log", () => {
  it("prints vLLM's line with throughputs, queue sizes, KV usage and prefix hit rate", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(
      schedulerStats({
        numRunningReqs: 1,
        kvCacheUsage: 0.001,
        prefixCacheStats: prefixStats(1, 100, 50),
      }),
      iterationStats({ firstOutputs: [firstOutput(123)], numGenerationTokens: 45 }),
    );
    expect(logger.log(10)).toEqual({
      level: "info",
      message:
        "Engine 000: Avg prompt throughput: 12.3 tokens/s, Avg generation throughput: 4.5 tokens/s, " +
        "Running: 1 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.1%, Prefix cache hit rate: 50.0%",
    });
  });

  it("counts locally computed prompt tokens, not full prompt lengths", () => {
    const logger = new LoggingStatLogger(0, 0);
    // A decode instance: 999 of the 1000 prompt tokens arrived by transfer, one was computed.
    const decode = firstOutput(1000, { external: 999 });
    logger.record(null, iterationStats({ numPromptTokens: 1000, firstOutputs: [decode] }));
    expect(logger.log(10).message).toContain("Avg prompt throughput: 0.1 tokens/s");
  });

  it("divides by the time since the previous line and starts a new interval", () => {
    const logger = new LoggingStatLogger(0, 100);
    logger.record(null, iterationStats({ numGenerationTokens: 100 }));
    expect(logger.log(110).message).toContain("Avg generation throughput: 10.0 tokens/s");
    logger.record(null, iterationStats({ numGenerationTokens: 50 }));
    logger.record(null, iterationStats({ numGenerationTokens: 50 }));
    expect(logger.log(114).message).toContain("Avg generation throughput: 25.0 tokens/s");
  });

  it("reports zero throughput when no time has passed", () => {
    const logger = new LoggingStatLogger(0, 5);
    logger.record(null, iterationStats({ numGenerationTokens: 100 }));
    expect(logger.log(5).message).toContain("Avg generation throughput: 0.0 tokens/s");
  });

  it("rounds like printf's %.1f", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(
      schedulerStats({ kvCacheUsage: 0.0025 }),
      iterationStats({ numGenerationTokens: 1 }),
    );
    const message = logger.log(4).message;
    expect(message).toContain("Avg generation throughput: 0.2 tokens/s"); // 0.25
    expect(message).toContain("GPU KV cache usage: 0.2%"); // 0.25
  });

  it("shows the preemptions of the interval only when there were some", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(null, iterationStats({ numPreemptedReqs: 1, numGenerationTokens: 10 }));
    logger.record(schedulerStats({ numWaitingReqs: 3 }), iterationStats({ numPreemptedReqs: 1 }));
    expect(logger.log(10).message).toContain(
      "Running: 0 reqs, Waiting: 3 reqs, Preemptions: 2, GPU KV cache usage: 0.0%",
    );
    logger.record(null, iterationStats({ numGenerationTokens: 10 }));
    expect(logger.log(20).message).not.toContain("Preemptions");
  });

  it("adds the external hit rate once connector stats were seen, and keeps it after", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(schedulerStats(), null);
    expect(logger.log(10).message).not.toContain("External");
    logger.record(schedulerStats({ connectorPrefixCacheStats: prefixStats(0, 0, 0) }), null);
    expect(logger.log(20).message).not.toContain("External");
    const connector = prefixStats(2, 200, 200);
    logger.record(schedulerStats({ connectorPrefixCacheStats: connector }), null);
    expect(logger.log(30).message).toMatch(
      /Prefix cache hit rate: 0\.0%, External prefix cache hit rate: 100\.0%$/,
    );
    logger.record(schedulerStats(), null);
    expect(logger.log(40).message).toContain("External prefix cache hit rate: 100.0%");
  });

  it("uses the last scheduler stats seen, even from an earlier interval", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(
      schedulerStats({ numRunningReqs: 5, numWaitingReqs: 2, kvCacheUsage: 0.5 }),
      null,
    );
    logger.record(
      schedulerStats({ numRunningReqs: 4, numWaitingReqs: 1, kvCacheUsage: 0.25 }),
      null,
    );
    logger.log(10);
    logger.record(null, iterationStats({ numGenerationTokens: 1 }));
    expect(logger.log(20).message).toContain(
      "Running: 4 reqs, Waiting: 1 reqs, GPU KV cache usage: 25.0%",
    );
  });

  it("logs at debug only when this interval and the previous one had zero throughput", () => {
    const logger = new LoggingStatLogger(0, 0);
    logger.record(null, iterationStats({ numGenerationTokens: 10 }));
    expect(logger.log(10).level).toBe("info");
    expect(logger.log(20).level).toBe("info"); // the previous interval was busy
    expect(logger.log(30).level).toBe("debug");
    logger.record(null, iterationStats({ firstOutputs: [firstOutput(1)] }));
    expect(logger.log(40).level).toBe("info");
  });

  it("logs a never-busy engine's first line at debug", () => {
    expect(new LoggingStatLogger(0, 0).log(10).level).toBe("debug");
  });

  it("pads the engine index to three digits as Python's {:03d} does", () => {
    expect(new LoggingStatLogger(7, 0).log(1).message).toMatch(/^Engine 007: /);
    expect(new LoggingStatLogger(1234, 0).log(1).message).toMatch(/^Engine 1234: /);
  });
});
