import { describe, expect, it } from "vitest";
import { StatLoggerManager } from "../../src/metrics/stat-logger-manager.ts";
import { iterationStats, schedulerStats } from "./stats-builders.ts";

const options = {
  modelName: "m",
  engineIndex: 2,
  maxModelLen: 1024,
  maxNumBatchedTokens: 512,
  startTime: 0,
};

describe("StatLoggerManager", () => {
  it("forwards each record to both the Prometheus and the logging logger", () => {
    const manager = new StatLoggerManager(options);
    manager.record(
      schedulerStats({ numRunningReqs: 2 }),
      iterationStats({ numGenerationTokens: 20 }),
    );
    expect(manager.prometheus.sampleValue("vllm:generation_tokens_total", { engine: "2" })).toBe(
      20,
    );
    expect(manager.log(10)?.message).toMatch(
      /^Engine 002: Avg prompt throughput: 0\.0 tokens\/s, Avg generation throughput: 2\.0 tokens\/s, Running: 2 reqs/,
    );
  });

  it("returns no line when logging is disabled but still feeds Prometheus", () => {
    const manager = new StatLoggerManager({ ...options, enableLogging: false });
    manager.record(null, iterationStats({ numGenerationTokens: 3 }));
    expect(manager.logging).toBeNull();
    expect(manager.log(10)).toBeNull();
    expect(manager.prometheus.sampleValue("vllm:generation_tokens_total")).toBe(3);
  });
});
