import { describe, expect, it } from "vitest";
import { CachingMetrics } from "../../src/metrics/caching-metrics.ts";

const batch = (requests: number, queries: number, hits: number, reset = false) => ({
  reset,
  requests,
  queries,
  hits,
});

describe("CachingMetrics", () => {
  it("starts empty with a hit rate of 0", () => {
    const metrics = new CachingMetrics();
    expect(metrics.empty).toBe(true);
    expect(metrics.hitRate).toBe(0);
  });

  it("weights the hit rate by tokens across batches", () => {
    const metrics = new CachingMetrics();
    metrics.observe(batch(1, 100, 50));
    metrics.observe(batch(1, 300, 0));
    expect(metrics.empty).toBe(false);
    expect(metrics.hitRate).toBe(50 / 400);
  });

  it("ignores a batch without requests, so it cannot push real batches out", () => {
    const metrics = new CachingMetrics(2);
    metrics.observe(batch(2, 100, 100));
    metrics.observe(batch(0, 0, 0));
    expect(metrics.hitRate).toBe(1);
    const fresh = new CachingMetrics();
    fresh.observe(batch(0, 10, 5));
    expect(fresh.empty).toBe(true);
  });

  it("drops the oldest batches while the window holds more than the maximum requests", () => {
    const metrics = new CachingMetrics(3);
    metrics.observe(batch(2, 100, 100)); // 2 requests
    metrics.observe(batch(1, 100, 0)); // 3 requests: all kept
    expect(metrics.hitRate).toBe(0.5);
    metrics.observe(batch(1, 100, 0)); // 4 > 3: the first batch goes
    expect(metrics.hitRate).toBe(0);
  });

  it("keeps the newest batch even when it alone exceeds the maximum", () => {
    const metrics = new CachingMetrics(3);
    metrics.observe(batch(1, 100, 0));
    metrics.observe(batch(10, 100, 80));
    expect(metrics.empty).toBe(false);
    expect(metrics.hitRate).toBe(0.8);
  });

  it("stops dropping as soon as the window is back within the maximum", () => {
    const metrics = new CachingMetrics(1000);
    metrics.observe(batch(600, 600, 600));
    metrics.observe(batch(300, 300, 0));
    metrics.observe(batch(200, 200, 0)); // 1100 > 1000: only the 600 batch goes
    expect(metrics.hitRate).toBe(0);
    metrics.observe(batch(500, 500, 500)); // 1000: nothing goes
    expect(metrics.hitRate).toBe(500 / 1000);
  });

  it("clears the window on reset and on a batch flagged as reset before adding it", () => {
    const metrics = new CachingMetrics();
    metrics.observe(batch(1, 100, 100));
    metrics.observe(batch(1, 100, 0, true));
    expect(metrics.hitRate).toBe(0);
    metrics.reset();
    expect(metrics.empty).toBe(true);
    metrics.observe(batch(1, 10, 10));
    metrics.observe(batch(0, 0, 0, true));
    expect(metrics.empty).toBe(true);
  });

  it("keeps exact sums over many more batches than the window holds", () => {
    const metrics = new CachingMetrics(1000);
    for (let i = 0; i < 5000; i++) metrics.observe(batch(1, 10, i % 2 === 0 ? 10 : 0));
    // The last 1000 batches alternate, starting with an odd (miss) one.
    expect(metrics.hitRate).toBe(0.5);
  });
});
