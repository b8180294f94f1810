// `--out DIR/trace.json`: Chrome's trace-event format (Perfetto loads it), one process per
// instance with its engine steps and request legs, one per link with its transfers.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pdsim, removeDir, scratchDir } from "./cli.ts";

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  id?: string;
  cat?: string;
  args?: Record<string, unknown>;
}

let dir = "";
let events: TraceEvent[] = [];
let requests: { id: string; legs: { instance: string; first_token_s: number }[] }[] = [];

beforeAll(async () => {
  dir = scratchDir();
  const out = path.join(dir, "run");
  const run = await pdsim("run", "scenarios/pd-shared-prefix.yaml", "--quiet", "--out", out);
  expect(run.status, run.stderr).toBe(0);
  const trace = JSON.parse(fs.readFileSync(path.join(out, "trace.json"), "utf8")) as {
    traceEvents: TraceEvent[];
    otherData: Record<string, unknown>;
  };
  expect(trace.otherData).toEqual({ clock: "simulated microseconds" });
  events = trace.traceEvents;
  requests = fs
    .readFileSync(path.join(out, "requests.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
});
afterAll(() => removeDir(dir));

const processName = (pid: number) =>
  events.find((e) => e.ph === "M" && e.name === "process_name" && e.pid === pid)?.args?.name;

describe("trace.json", () => {
  it("has a process per instance and per prefill→decode link", () => {
    const names = events
      .filter((e) => e.ph === "M" && e.name === "process_name")
      .map((e) => e.args!.name);
    expect(names).toEqual(["prefill-0", "decode-0", "link prefill-0 → decode-0"]);
  });

  it("puts engine steps on each instance's step track, back to back and never overlapping", () => {
    for (const pid of [1, 2]) {
      const steps = events.filter((e) => e.pid === pid && e.name === "step");
      expect(steps.length).toBeGreaterThan(0);
      for (const [a, b] of steps.slice(1).map((s, i) => [steps[i]!, s] as const)) {
        expect(b.ts!).toBeGreaterThanOrEqual(a.ts! + a.dur!);
      }
      expect(
        steps.every((s) => s.ph === "X" && s.tid === 1 && (s.args!.tokens as number) > 0),
      ).toBe(true);
    }
  });

  it("has every request's legs as slices that open and close, phases within the leg", () => {
    for (const record of requests) {
      for (const leg of record.legs) {
        const id = `${record.id}@${leg.instance}`;
        const mine = events.filter((e) => e.cat === "request" && e.id === id);
        const begins = mine.filter((e) => e.ph === "b").map((e) => e.name);
        const ends = mine.filter((e) => e.ph === "e").map((e) => e.name);
        expect(begins).toEqual(ends);
        expect(begins[0]).toBe(record.id);
        expect(begins).toContain("prefill");
        const prefillEnd = mine.find((e) => e.ph === "e" && e.name === "prefill")!;
        expect(prefillEnd.ts).toBe(Math.round(leg.first_token_s * 1e6));
        expect(processName(mine[0]!.pid)).toBe(leg.instance);
      }
    }
  });

  it("puts each KV transfer on its link, with its tokens", () => {
    const transfers = events.filter((e) => e.cat === "transfer" && e.ph === "b");
    expect(transfers.map((t) => t.name).sort()).toEqual(requests.map((r) => r.id).sort());
    for (const t of transfers) {
      expect(processName(t.pid)).toBe("link prefill-0 → decode-0");
      expect(t.args!.outcome).toBe("ok");
      expect(t.args!.tokens as number).toBeGreaterThan(0);
    }
  });
});
