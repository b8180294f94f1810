// Hit rate over the most recent requests; mirrors vLLM's CachingMetrics
// (vllm/v1/metrics/stats.py), leaving out nothing but the multimodal-cache use of it.

/** What `observe` reads of a `PrefixCacheStats` (queries and hits are in tokens). */
export interface CacheStatsBatch {
  readonly reset: boolean;
  readonly requests: number;
  readonly queries: number;
  readonly hits: number;
}

/**
 * A sliding window of batches, one batch per step. The window is cut at batch boundaries:
 * after appending, the oldest batches go while more than one remains and the window holds
 * more than `maxRecentRequests` requests, so the newest batch stays even if alone it is larger.
 */
export class CachingMetrics {
  private readonly requests: number[] = [];
  private readonly queries: number[] = [];
  private readonly hits: number[] = [];
  /** Index of the oldest live batch; dropped batches stay in the arrays until compaction. */
  private head = 0;
  private aggregatedRequests = 0;
  private aggregatedQueries = 0;
  private aggregatedHits = 0;

  constructor(readonly maxRecentRequests = 1000) {}

  observe(stats: CacheStatsBatch): void {
    // A reset of the prefix cache happened before this step's lookups.
    if (stats.reset) this.reset();
    // An empty batch would push real ones out of the window without adding information.
    if (stats.requests === 0) return;

    this.requests.push(stats.requests);
    this.queries.push(stats.queries);
    this.hits.push(stats.hits);
    this.aggregatedRequests += stats.requests;
    this.aggregatedQueries += stats.queries;
    this.aggregatedHits += stats.hits;

    while (
      this.requests.length - this.head > 1 &&
      this.aggregatedRequests > this.maxRecentRequests
    ) {
      this.aggregatedRequests -= this.requests[this.head] ?? 0;
      this.aggregatedQueries -= this.queries[this.head] ?? 0;
      this.aggregatedHits -= this.hits[this.head] ?? 0;
      this.head += 1;
    }
    if (this.head >= 1024 && this.head * 2 >= this.requests.length) this.compact();
  }

  reset(): void {
    this.requests.length = 0;
    this.queries.length = 0;
    this.hits.length = 0;
    this.head = 0;
    this.aggregatedRequests = 0;
    this.aggregatedQueries = 0;
    this.aggregatedHits = 0;
  }

  /** True when no non-empty batch has been observed since construction or the last reset. */
  get empty(): boolean {
    return this.requests.length === this.head;
  }

  /** Σhits / Σqueries over the window, 0 when nothing was queried. */
  get hitRate(): number {
    return this.aggregatedQueries === 0 ? 0 : this.aggregatedHits / this.aggregatedQueries;
  }

  private compact(): void {
    this.requests.splice(0, this.head);
    this.queries.splice(0, this.head);
    this.hits.splice(0, this.head);
    this.head = 0;
  }
}
