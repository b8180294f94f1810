// vLLM's OffloadingConnector metrics (OffloadPromMetrics in
// vllm/distributed/kv_transfer/kv_connector/v1/offloading_connector.py): every copy between the
// GPU and the CPU tier, by direction, as the worker records each finished transfer.

import type { CounterSeries, FamilyDef, HistogramSeries } from "./metric-family.ts";
import type { PrometheusStatLogger } from "./prometheus-stat-logger.ts";
import { ENGINE_LABEL_NAMES } from "./vllm-families.ts";

/** vLLM names a copy by its source and destination media. */
export type OffloadTransferType = "GPU_to_CPU" | "CPU_to_GPU";

const TRANSFER_TYPES: readonly OffloadTransferType[] = ["CPU_to_GPU", "GPU_to_CPU"];

const LABELS = [...ENGINE_LABEL_NAMES, "transfer_type"];

export const OFFLOAD_FAMILIES: readonly FamilyDef[] = [
  {
    name: "vllm:kv_offload_total_bytes_total",
    help: "Number of bytes offloaded by KV connector",
    type: "counter",
    labelNames: LABELS,
  },
  {
    name: "vllm:kv_offload_total_time_total",
    help: "Total time measured by all KV offloading operations",
    type: "counter",
    labelNames: LABELS,
  },
  {
    name: "vllm:kv_offload_size",
    help: "Histogram of KV offload transfer size, in bytes.",
    type: "histogram",
    labelNames: LABELS,
    buckets: [1e6, 5e6, 10e6, 20e6, 40e6, 60e6, 80e6, 100e6, 150e6, 200e6],
  },
];

interface TypeSeries {
  bytes: CounterSeries;
  seconds: CounterSeries;
  size: HistogramSeries;
}

/** One instance's offload families, both directions bound up front (exported at 0). */
export class OffloadMetrics {
  private readonly series = new Map<OffloadTransferType, TypeSeries>();

  constructor(logger: PrometheusStatLogger) {
    for (const def of OFFLOAD_FAMILIES) logger.addFamily(def);
    for (const transferType of TRANSFER_TYPES) {
      const labels = { transfer_type: transferType };
      this.series.set(transferType, {
        bytes: logger.bind("vllm:kv_offload_total_bytes_total", "counter", labels),
        seconds: logger.bind("vllm:kv_offload_total_time_total", "counter", labels),
        size: logger.bind("vllm:kv_offload_size", "histogram", labels),
      });
    }
  }

  record(transferType: OffloadTransferType, bytes: number, seconds: number): void {
    const s = this.series.get(transferType)!;
    s.bytes.inc(bytes);
    s.seconds.inc(seconds);
    s.size.observe(bytes);
  }
}
