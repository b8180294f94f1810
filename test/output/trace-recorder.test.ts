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

function written(recorder: TraceRecorder) {
  const chunks: string[] = [];
  recorder.write((c) => chunks.push(c));
  return JSON.parse(chunks.join("")) as {
    traceEvents: { ph: string; name: string }[];
    otherData: Record<string, unknown>;
  };
}

describe("TraceRecorder", () => {
  it("keeps whole slices only, up to its cap, and records when it stopped", () => {
    const recorder = new TraceRecorder(["p", "d"], [{ from: "p", to: "d" }], 12);
    const before = written(recorder).traceEvents.length;
    for (let i = 0; i < 10; i++) recorder.transfer(transfer(i));
    const trace = written(recorder);
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
    const trace = written(new TraceRecorder(["u"], []));
    expect(trace.traceEvents.map((e) => e.name)).toEqual([
      "process_name",
      "process_sort_index",
      "thread_name",
    ]);
    expect(trace.otherData).toEqual({ clock: "simulated microseconds" });
  });
});
