// pdsim's own families for the KV-transfer plane (vLLM's per-connector transfer metrics differ
// by connector; these count what crossed each link, from both ends, so sent = received can be
// checked from the expositions alone).

import type {
  HoldOutcome,
  TransferOutcome,
  TransferRecord,
} from "../kv-transfer/transfer-fabric.ts";
import type { CounterSeries, FamilyDef, HistogramSeries } from "./metric-family.ts";
import type { PrometheusStatLogger } from "./prometheus-stat-logger.ts";
import { ENGINE_LABEL_NAMES } from "./vllm-families.ts";

export type TransferDirection = "send" | "recv";

const OUTCOMES: readonly TransferOutcome[] = ["ok", "load_failed", "lease_expired"];
const HOLD_OUTCOMES: readonly HoldOutcome[] = ["read", "lease_expired", "released_unread"];
const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

const LINK_LABELS = [...ENGINE_LABEL_NAMES, "peer", "direction"];

export const TRANSFER_FAMILIES: readonly FamilyDef[] = [
  {
    name: "pdsim:kv_transfers_total",
    help: "KV transfers this instance sent (as the prefill side) or received (as the decode side), by peer instance and outcome.",
    type: "counter",
    labelNames: [...LINK_LABELS, "outcome"],
  },
  {
    name: "pdsim:kv_transfer_tokens_total",
    help: "Tokens whose KV crossed the link to or from the peer instance.",
    type: "counter",
    labelNames: LINK_LABELS,
  },
  {
    name: "pdsim:kv_transfer_bytes_total",
    help: "Bytes that crossed the link to or from the peer instance.",
    type: "counter",
    labelNames: LINK_LABELS,
  },
  {
    name: "pdsim:kv_transfer_duration_seconds",
    help: "Time from the start of a KV read to its end, including link latency and queueing behind other reads.",
    type: "histogram",
    labelNames: LINK_LABELS,
    buckets: DURATION_BUCKETS,
  },
];

/** Only the sending (prefill) side holds blocks. */
export const HELD_REQUESTS_FAMILY: FamilyDef = {
  name: "pdsim:kv_held_requests_total",
  help: "Finished prefill requests whose blocks were held for a decode instance, by how the hold ended.",
  type: "counter",
  labelNames: [...ENGINE_LABEL_NAMES, "outcome"],
};

interface LinkSeries {
  transfers: Record<TransferOutcome, CounterSeries>;
  tokens: CounterSeries;
  bytes: CounterSeries;
  duration: HistogramSeries;
}

/** The transfer families of one instance, with a series per peer bound up front (exported at 0). */
export class TransferMetrics {
  private readonly links = new Map<string, LinkSeries>();
  private readonly holds: Record<HoldOutcome, CounterSeries> | null = null;

  constructor(
    logger: PrometheusStatLogger,
    peers: readonly string[],
    direction: TransferDirection,
  ) {
    for (const def of TRANSFER_FAMILIES) logger.addFamily(def);
    for (const peer of peers) {
      const labels = { peer, direction };
      this.links.set(peer, {
        transfers: Object.fromEntries(
          OUTCOMES.map((outcome) => [
            outcome,
            logger.bind("pdsim:kv_transfers_total", "counter", { ...labels, outcome }),
          ]),
        ) as Record<TransferOutcome, CounterSeries>,
        tokens: logger.bind("pdsim:kv_transfer_tokens_total", "counter", labels),
        bytes: logger.bind("pdsim:kv_transfer_bytes_total", "counter", labels),
        duration: logger.bind("pdsim:kv_transfer_duration_seconds", "histogram", labels),
      });
    }
    if (direction === "send") {
      logger.addFamily(HELD_REQUESTS_FAMILY);
      this.holds = Object.fromEntries(
        HOLD_OUTCOMES.map((outcome) => [
          outcome,
          logger.bind("pdsim:kv_held_requests_total", "counter", { outcome }),
        ]),
      ) as Record<HoldOutcome, CounterSeries>;
    }
  }

  recordTransfer(peer: string, record: TransferRecord): void {
    const link = this.links.get(peer);
    if (link === undefined) throw new Error(`TransferMetrics: no link to ${peer}`);
    link.transfers[record.outcome].inc();
    // A read cut short by the lease moved nothing usable; count only reads that ran to the end.
    if (record.outcome !== "lease_expired") {
      link.tokens.inc(record.tokens);
      link.bytes.inc(record.bytes);
    }
    link.duration.observe((record.endTime - record.startTime) / 1e6);
  }

  recordHoldEnded(outcome: HoldOutcome): void {
    if (this.holds === null)
      throw new Error("TransferMetrics: a receiving instance holds no blocks");
    this.holds[outcome].inc();
  }
}
