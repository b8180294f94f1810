// Closed-loop clients (workload.concurrency) and multi-turn sessions.
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { parseScenario } from "../../src/scenario/index.ts";
import { removeDir, scratchDir, writeScenario, pdsim } from "../e2e/cli.ts";
import { catalogueRun } from "../support/catalogue.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

function run(lines: readonly string[]): RequestRecord[] {
  const scenario = parseScenario(lines.join("\n"), path.join(dir, "scenario.yaml"));
  const records: RequestRecord[] = [];
  new Cluster(scenario, scenario.seed, { onRequestFinished: (r) => records.push(r) }).run();
  return records;
}

/** The most requests in flight at once, from their arrival and finish times. */
function peakInFlight(records: readonly RequestRecord[]): number {
  const events = records.flatMap((r) => [
    [r.arrival_s, 1],
    [r.finish_s, -1],
  ]);
  // A finish and an arrival at one instant: the client was freed first.
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let peak = 0;
  for (const [, delta] of events) peak = Math.max(peak, (now += delta!));
  return peak;
}

describe("closed-loop clients", () => {
  const burst = [
    "instances: [{ name: u, role: unified }]",
    "workload:",
    "  num_requests: 12",
    "  arrival: { process: constant, interval_s: 0.000001 }",
    "  prompt_tokens: { dist: uniform, min: 20, max: 300 }",
    "  max_tokens: { dist: constant, value: 8 }",
  ];

  it("keep at most `concurrency` requests in flight, sent in order as clients free", () => {
    const open = run(burst);
    const closed = run([...burst, "  concurrency: 3"]);
    expect(peakInFlight(open)).toBeGreaterThan(3);
    expect(peakInFlight(closed)).toBe(3);
    const sent = [...closed].sort((a, b) => a.arrival_s - b.arrival_s || a.id.localeCompare(b.id));
    expect(sent.map((r) => r.id)).toEqual(open.map((r) => r.id).sort());
    // The fourth request waits for the first response, and is stamped when it is sent.
    const firstFinish = Math.min(...closed.map((r) => r.finish_s));
    expect(sent[3]!.arrival_s).toBe(firstFinish);
    // Same prompts, whatever the timing.
    const lengths = (rs: RequestRecord[]) =>
      Object.fromEntries(rs.map((r) => [r.id, r.prompt_tokens]));
    expect(lengths(closed)).toEqual(lengths(open));
  });

  it("with one client, replays requests one after another (the paper's sequential replay)", () => {
    const one = run([...burst, "  concurrency: 1"]);
    const sorted = [...one].sort((a, b) => a.arrival_s - b.arrival_s);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.arrival_s).toBe(sorted[i - 1]!.finish_s);
    }
  });
});

describe("sessions", () => {
  const twoTurns = (instances: string) => [
    `instances: ${instances}`,
    "engine: { block_size: 16 }",
    "workload:",
    "  sessions:",
    "    num_sessions: 1",
    "    arrival: { process: constant, interval_s: 1 }",
    "    turns: { dist: constant, value: 2 }",
    "    first_prompt_tokens: { dist: constant, value: 40 }",
    "    user_tokens: { dist: constant, value: 10 }",
    "    max_tokens: { dist: constant, value: 20 }",
    "    think_time_s: { dist: constant, value: 1.5 }",
  ];

  it("hit turn 1's prompt and output blocks in turn 2, to the token", () => {
    const [first, second] = run(twoTurns("[{ name: u, role: unified }]"));
    expect(first).toMatchObject({ id: "sess-0-turn-1", prompt_tokens: 40 });
    // Turn 2 is turn 1's 40 prompt tokens, its 20 generated tokens and 10 new ones, sent 1.5 s
    // after turn 1's response ended.
    expect(second).toMatchObject({ id: "sess-0-turn-2", prompt_tokens: 70 });
    expect(second!.arrival_s).toBeCloseTo(first!.finish_s + 1.5, 6);
    expect(first!.legs[0]!.num_output_tokens).toBe(20);
    // Turn 1 computed KV for 40 + 19 tokens (the last sampled token is never fed back): three
    // full blocks, 48 tokens, 8 of them generated. Turn 2 hits all three.
    expect(first!.legs[0]!.num_cached_tokens).toBe(0);
    expect(second!.legs[0]!.num_cached_tokens).toBe(48);
  });

  it("on P/D: the decode instance holds turn 1's output blocks, the prefill instance only its prompt's", () => {
    const [, second] = run(twoTurns("[{ name: p, role: prefill }, { name: d, role: decode }]"));
    const [prefill, decode] = second!.legs;
    // The prefill instance computed turn 1's 40 prompt tokens (two full blocks) and nothing else.
    expect(prefill!.truth).toEqual({
      local_cache_hit: 32,
      local_compute: 38,
      external_kv_transfer: 0,
    });
    // The decode instance holds turn 1's loaded prompt and the output it generated: 48 tokens hit
    // locally, the other 21 of the first 69 arrive from the prefill, the last is recomputed.
    expect(decode!.truth).toEqual({
      local_cache_hit: 48,
      external_kv_transfer: 21,
      local_compute: 1,
    });
  });

  it("are the same conversations whatever the cache does", () => {
    const sessions = (blocks: number) => [
      "instances: [{ name: p, role: prefill }, { name: d, role: decode }]",
      `engine: { block_size: 16, num_gpu_blocks: ${blocks}, max_model_len: 800 }`,
      "workload:",
      "  sessions:",
      "    num_sessions: 6",
      "    arrival: { process: poisson, rate_per_s: 4 }",
      "    turns: { dist: uniform, min: 1, max: 4 }",
      "    first_prompt_tokens: { dist: uniform, min: 20, max: 200 }",
      "    user_tokens: { dist: uniform, min: 5, max: 60 }",
      "    max_tokens: { dist: uniform, min: 4, max: 40 }",
      "    think_time_s: { dist: exponential, mean: 0.5 }",
      "    shared_prefix: { groups: 2, tokens: 64, probability: 0.5 }",
    ];
    const big = run(sessions(4096));
    const small = run(sessions(60));
    const byId = (rs: RequestRecord[]) =>
      Object.fromEntries(rs.map((r) => [r.id, [r.prompt_tokens, r.max_tokens, r.prefix_group]]));
    expect(byId(small)).toEqual(byId(big));
    expect(big.length).toBeGreaterThan(6);
  });

  it("keep every invariant of the catalogue on P/D runs, with and without closed-loop clients", () => {
    const reached: Record<"laterTurnHit" | "waited" | "preemption", boolean>[] = [];
    fc.assert(
      fc.property(
        fc.record({
          sessions: fc.integer({ min: 1, max: 10 }),
          maxTurns: fc.integer({ min: 1, max: 5 }),
          blocks: fc.constantFrom(48, 64, 1024),
          concurrency: fc.option(fc.integer({ min: 1, max: 3 })),
          connector: fc.constantFrom("nixl", "p2p_nccl"),
        }),
        ({ sessions, maxTurns, blocks, concurrency, connector }) => {
          const scenario = parseScenario(
            [
              "instances: [{ name: p, role: prefill }, { name: d, role: decode }]",
              `engine: { block_size: 16, num_gpu_blocks: ${blocks}, max_model_len: 700 }`,
              `kv_transfer: { connector: ${connector} }`,
              "workload:",
              ...(concurrency === null ? [] : [`  concurrency: ${concurrency}`]),
              "  sessions:",
              `    num_sessions: ${sessions}`,
              "    arrival: { process: poisson, rate_per_s: 20 }",
              `    turns: { dist: uniform, min: 1, max: ${maxTurns} }`,
              "    first_prompt_tokens: { dist: uniform, min: 10, max: 150 }",
              "    user_tokens: { dist: uniform, min: 1, max: 40 }",
              "    max_tokens: { dist: uniform, min: 1, max: 250 }",
              "    think_time_s: { dist: exponential, mean: 0.05 }",
            ].join("\n"),
            path.join(dir, "s.yaml"),
          );
          const { verdict, broken } = catalogueRun(scenario);
          expect(verdict.error).toBeNull();
          expect(broken).toEqual([]);
          const records = verdict.run.outputs.records;
          reached.push({
            laterTurnHit: records.some(
              (r) => !r.id.endsWith("turn-1") && r.legs.some((l) => l.num_cached_tokens > 0),
            ),
            waited: concurrency !== null && peakInFlight(records) === concurrency,
            preemption: records.some((r) => r.legs.some((l) => l.num_preemptions > 0)),
          });
        },
      ),
      propertyParamsWithRuns(20),
    );
    expectReached("sessions on P/D", reached, 0.1);
  });

  it("survive thousands of waiting turns that are refused as soon as they are sent", () => {
    // Every turn 2 outgrows max_model_len (100 + 150 + 100 ≥ 300) and is refused the moment a
    // client sends it, which frees that client at once: the waiting line must not recurse.
    const records = run([
      "instances: [{ name: u, role: unified }]",
      "engine: { max_model_len: 300, num_gpu_blocks: 200000, max_num_seqs: 8192, max_num_batched_tokens: 1000000 }",
      "workload:",
      "  concurrency: 5000",
      "  sessions:",
      "    num_sessions: 20000",
      "    arrival: { process: constant, interval_s: 0.000001 }",
      "    turns: { dist: constant, value: 2 }",
      "    first_prompt_tokens: { dist: constant, value: 100 }",
      "    user_tokens: { dist: constant, value: 100 }",
      "    max_tokens: { dist: constant, value: 150 }",
      "    think_time_s: { dist: constant, value: 0.1 }",
    ]);
    expect(records).toHaveLength(40000);
    expect(records.filter((r) => r.finish_reason === "error")).toHaveLength(20000);
  });

  it("refuse a workload that is sessions and something else", async () => {
    const file = writeScenario(dir, "both.yaml", [
      "instances: [{ name: u, role: unified }]",
      "workload:",
      "  num_requests: 3",
      "  sessions: { num_sessions: 1, arrival: { process: constant, interval_s: 1 }, turns: { dist: constant, value: 1 }, first_prompt_tokens: { dist: constant, value: 5 }, user_tokens: { dist: constant, value: 5 }, max_tokens: { dist: constant, value: 5 }, think_time_s: { dist: constant, value: 1 } }",
    ]);
    const result = await pdsim("run", file);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /workload\.sessions: a workload is one of a generator, explicit requests, a trace or sessions; remove 'sessions' or 'num_requests'/,
    );
  });
});
