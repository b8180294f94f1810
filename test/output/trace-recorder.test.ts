// The trace stops growing at its cap without leaving a slice open, and says where it stopped.
import { describe, expect, it } from "vitest";
import type { TransferRecord } from "../../src/kv-transfer/transfer-fabric.ts";
import { TraceRecorder } from "../../src/output/trace-recorder.ts";

const transfer = (i: number): TransferRecord => ({
  requestId: `r${i}`,
  from: "p",
  to: "d",
  tokens: 16,
  bytes: 1024,
  startTime: i * 100,
  endTime: i * 100 + 50,
  outcome: "ok",
  firstInvalidToken: null,
});

/** A recorder writing into a string, and the trace it wrote once finished. */
function recorder(
  ...args: [instances: string[], links: { from: string; to: string }[], max?: number]
) {
  const chunks: string[] = [];
  const r = new TraceRecorder((c) => chunks.push(c), ...args);
  return { r, chunks };
}

function finished({ r, chunks }: ReturnType<typeof recorder>) {
  r.finish();
  return JSON.parse(chunks.join("")) as {
    traceEvents: { ph: string; name: string }[];
    otherData: Record<string, unknown>;
  };
}

describe("TraceRecorder", () => {
  it("writes events as it goes, a thousand at a time, and the same JSON as a whole", () => {
    const rec = recorder(["p", "d"], [{ from: "p", to: "d" }]);
    for (let i = 0; i < 1500; i++) rec.r.transfer(transfer(i));
    // The header, then a chunk per thousand events (8 metadata events and 3000 of the
    // transfers'), are out before the run ends; the last 8 wait for finish.
    expect(rec.chunks.length).toBe(1 + 3);
    const trace = finished(rec);
    expect(trace.traceEvents).toHaveLength(8 + 3000);
    expect(trace.otherData).toEqual({ clock: "simulated microseconds" });
  });

  it("keeps whole slices only, up to its cap, and records when it stopped", () => {
    // Eight metadata events (three per instance, two for the link), then whole transfer slices
    // (two events each) up to the cap.
    const before = 8;
    const rec = recorder(["p", "d"], [{ from: "p", to: "d" }], 12);
    for (let i = 0; i < 10; i++) rec.r.transfer(transfer(i));
    const trace = finished(rec);
    expect(trace.traceEvents.filter((e) => e.ph === "M")).toHaveLength(before);
    const slices = trace.traceEvents.slice(before);
    expect(slices.length % 2).toBe(0);
    expect(trace.traceEvents.length).toBeLessThanOrEqual(12);
    expect(slices.filter((e) => e.ph === "b").length).toBe(
      slices.filter((e) => e.ph === "e").length,
    );
    const kept = slices.length / 2;
    expect(trace.otherData).toEqual({
      clock: "simulated microseconds",
      truncated_at_us: kept * 100 + 50,
      max_events: 12,
    });
  });

  it("writes valid JSON with no events but the metadata", () => {
    const trace = finished(recorder(["u"], []));
    expect(trace.traceEvents.map((e) => e.name)).toEqual([
      "process_name",
      "process_sort_index",
      "thread_name",
    ]);
    expect(trace.otherData).toEqual({ clock: "simulated microseconds" });
  });
});
