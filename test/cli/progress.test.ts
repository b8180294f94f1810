// The progress bar: drawn on a terminal once the run has taken long enough, never elsewhere,
// and the sliced run it drives computes exactly what an unsliced run does.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { runWithProgress } from "../../src/cli/progress.ts";
import { Interrupted } from "../../src/cli/signals.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { REPORT_MAX_POINTS, ReportSampler } from "../../src/output/report-sampler.ts";

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY: boolean) {
    super();
  }
  columns = 100;
  override _write(chunk: Buffer, _: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function cluster(records: RequestRecord[]): Cluster {
  const scenario = loadScenario("scenarios/pd-2p4d-round-robin.yaml");
  return new Cluster(scenario, scenario.seed, { onRequestFinished: (r) => records.push(r) });
}

describe("runWithProgress", () => {
  it("draws a bar on a terminal and clears it at the end; the run is the run without it", async () => {
    const stream = new Capture(true);
    const withBar: RequestRecord[] = [];
    const plain: RequestRecord[] = [];
    const a = await runWithProgress(cluster(withBar), { stream, showAfterMs: 0 });
    const b = cluster(plain).run();
    expect(stream.text).toMatch(/pdsim .* \d+\/400 requests \| [0-9.]+ s simulated/);
    expect(stream.text).toContain("400/400 requests");
    expect(a).toEqual(b);
    expect(withBar).toEqual(plain);
  });

  it("computes the same run while a report sampler reads it at fixed times", async () => {
    const sampled: RequestRecord[] = [];
    const plain: RequestRecord[] = [];
    const run = cluster(sampled);
    const sampler = new ReportSampler(
      run.instances.map((i) => ({ name: i.name, exposition: i.statLoggers.prometheus })),
    );
    const sampledAt: number[] = [];
    const recording = {
      get nextTime() {
        return sampler.nextTime;
      },
      sample(time: number) {
        sampledAt.push(time);
        sampler.sample(time);
      },
    };
    const a = await runWithProgress(run, { stream: null, sampler: recording });
    const b = cluster(plain).run();
    expect(a).toEqual(b);
    expect(sampled).toEqual(plain);
    const { times } = sampler.finish(run.sim.lastWorkTime);
    expect(times.length).toBeGreaterThan(REPORT_MAX_POINTS / 2);
    // No sample past the end of the work, where the periodic timers still tick.
    expect(Math.max(...sampledAt)).toBeLessThanOrEqual(run.sim.lastWorkTime);
  });

  it("writes nothing when the stream is not a terminal", async () => {
    const stream = new Capture(false);
    await runWithProgress(cluster([]), { stream, showAfterMs: 0 });
    expect(stream.text).toBe("");
  });

  it("writes nothing for a run shorter than the threshold", async () => {
    const stream = new Capture(true);
    await runWithProgress(cluster([]), { stream, showAfterMs: 60_000 });
    expect(stream.text).toBe("");
  });

  it("stops between slices with Interrupted once a signal has come", async () => {
    const run = cluster([]);
    await expect(
      runWithProgress(run, { stream: new Capture(false), interrupted: () => "SIGTERM" }),
    ).rejects.toThrow(new Interrupted("SIGTERM"));
    expect(run.requestsDone).toBeLessThan(run.workloadSize);
  });
});
