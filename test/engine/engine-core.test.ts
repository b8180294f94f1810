import { describe, expect, it } from "vitest";
import { Simulation } from "../../sim/index.ts";
import { EngineCore } from "../../src/engine/engine-core.ts";
import type { Request } from "../../src/engine/request.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../../src/engine/scheduler-output.ts";
import type { StepTimeModel } from "../../src/engine/step-latency.ts";
import { engineParams, makeRequest, streamTokens, type EngineParams } from "./helpers.ts";

const model: StepTimeModel = {
  kind: "linear",
  baseMs: 1,
  perPrefillTokenUs: 10,
  perDecodeSeqUs: 100,
  perContextTokenNs: 1000,
};

interface StepRecord {
  start: number;
  end: number;
  tokens: Record<string, number>;
  outputs: string[];
}

/** An engine on a fresh kernel that records each step's start, end, batch and outputs. */
function harness(overrides: Partial<EngineParams> = {}) {
  const sim = new Simulation();
  const steps: StepRecord[] = [];
  const idleReports: EngineCoreOutputs[] = [];
  const engine = new EngineCore(
    sim,
    engineParams(overrides),
    model,
    (outputs: EngineCoreOutputs, scheduled: SchedulerOutput | null) => {
      if (scheduled === null || scheduled.totalNumScheduledTokens === 0) {
        idleReports.push(outputs);
        return;
      }
      steps.push({
        start: scheduled.timestamp,
        end: outputs.timestamp,
        tokens: Object.fromEntries(
          scheduled.scheduled.map((s) => [s.request.requestId, s.numNewTokens]),
        ),
        outputs: outputs.outputs.map((o) => o.requestId),
      });
    },
  );
  const request = (id: string, promptLen: number, maxTokens: number, stream = 1): Request =>
    makeRequest({
      id,
      promptTokenIds: streamTokens(stream, 0, promptLen),
      maxTokens,
      blockSize: 16,
      arrivalTime: sim.now,
    });
  return { sim, engine, steps, idleReports, request };
}

describe("EngineCore on the kernel", () => {
  it("delivers a request's first token at the end of its prefill step, timed by prefill tokens", () => {
    const { sim, engine, steps, request } = harness();
    engine.addRequest(request("a", 20, 3));
    sim.run();
    expect(steps.map((s) => [s.start, s.end])).toEqual([
      [0, 1200], // 1 ms + 20 prefill tokens · 10 µs
      [1200, 2320], // 1 ms + 1 decode sequence · 100 µs + 20 context tokens · 1 µs
      [2320, 3441], // ... with 21 context tokens
    ]);
    expect(steps.map((s) => s.outputs)).toEqual([["a"], ["a"], ["a"]]);
    expect(engine.numSteps).toBe(3);
  });

  it("times each chunk of a chunked prefill by its tokens and the context before it", () => {
    const { sim, engine, steps, request } = harness({ maxNumBatchedTokens: 8 });
    engine.addRequest(request("a", 20, 1));
    sim.run();
    expect(steps.map((s) => s.end - s.start)).toEqual([
      1000 + 8 * 10,
      1000 + 8 * 10 + 8,
      1000 + 4 * 10 + 16,
    ]);
    expect(steps.map((s) => s.outputs)).toEqual([[], [], ["a"]]);
  });

  it("times a mixed batch as prefill tokens plus decode sequences plus context tokens", () => {
    const { sim, engine, steps, request } = harness();
    engine.addRequest(request("a", 20, 3));
    sim.run({ until: 1200 }); // a's prefill step is done; its first decode step started
    engine.addRequest(request("b", 10, 1, 2));
    sim.run();
    const mixed = steps.find((s) => s.tokens.b !== undefined)!;
    expect(mixed.tokens).toEqual({ a: 1, b: 10 });
    expect(mixed.start).toBe(2320); // b joined at the next step boundary, not at once
    expect(mixed.end - mixed.start).toBe(1000 + 10 * 10 + 100 + 21);
  });

  it("runs one step at a time: each step starts when the previous one ends", () => {
    const { sim, engine, steps, request } = harness({ maxNumBatchedTokens: 16 });
    engine.addRequest(request("a", 40, 4));
    sim.schedule(500, () => engine.addRequest(request("b", 30, 4, 2)));
    sim.schedule(1500, () => engine.addRequest(request("c", 5, 2, 3)));
    sim.run();
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.start).toBe(steps[i - 1]!.end);
    expect(steps.flatMap((s) => s.outputs).filter((id) => id === "b")).toHaveLength(4);
  });

  it("goes idle when there is no work and wakes when a request arrives", () => {
    const { sim, engine, steps, request } = harness();
    engine.addRequest(request("a", 20, 1));
    sim.run();
    expect(sim.pendingEvents).toBe(0);
    expect(engine.scheduler.hasRequests()).toBe(false);
    const late = 10_000_000;
    let b: Request | undefined;
    sim.scheduleAt(late, () => {
      b = request("b", 20, 1, 2);
      engine.addRequest(b);
    });
    sim.run();
    expect(steps.map((s) => s.start)).toEqual([0, late]);
    expect(steps[1]!.end).toBe(late + 1200);
    expect(b!.status).toBe("FINISHED_LENGTH_CAPPED");
    expect(sim.pendingEvents).toBe(0);
  });

  it("wakes once for several requests arriving at the same time", () => {
    const { sim, engine, steps, request } = harness();
    engine.addRequest(request("a", 10, 1));
    engine.addRequest(request("b", 10, 1, 2));
    sim.run();
    expect(steps).toHaveLength(1);
    expect(steps[0]!.tokens).toEqual({ a: 10, b: 10 });
  });

  it("publishes its state and sleeps when nothing can be scheduled", () => {
    // The full-ISL gate never admits a prompt larger than the whole pool.
    const { sim, engine, steps, idleReports, request } = harness({ numGpuBlocks: 3 });
    engine.addRequest(request("huge", 40, 1));
    sim.run();
    expect(steps).toHaveLength(0);
    expect(idleReports).toHaveLength(1);
    expect(idleReports[0]!.schedulerStats.numWaitingReqs).toBe(1);
    expect(idleReports[0]!.outputs).toEqual([]);
    expect(sim.pendingEvents).toBe(0);
  });
});
