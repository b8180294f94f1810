// The P/D flow with the NIXL connector on one prefill and one decode instance, followed event by
// event: the states of both legs, the prefill side's held blocks, what crosses the link, and how
// each instance accounts for the request (docs/vllm-reference.md#the-pd-flow, #prefix-cache).
import { describe, expect, it, vi } from "vitest";
import {
  KV_BYTES_PER_TOKEN,
  PD_BLOCK_SIZE,
  STEP_TIME,
  expectNothingHeld,
  instance,
  onePOneD,
  pdCluster,
  readTimeUs,
  runPd,
  sample,
  spyOnScheduled,
  statusSequence,
  stepThrough,
  usageOf,
} from "./helpers.ts";

const B = PD_BLOCK_SIZE;

describe("the P/D flow on one prefill and one decode instance (NIXL, async pull)", () => {
  const N = 40;
  const blocksForN = Math.ceil(N / B); // 3

  it("the prefill leg runs WAITING → RUNNING → FINISHED_LENGTH_CAPPED and holds its blocks, counted in its KV usage, until the read completes", () => {
    const { cluster, holdEnds } = pdCluster(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]),
    );
    const p = stepThrough(cluster, "r1").get("p")!;
    expect(statusSequence(p)).toEqual(["WAITING", "RUNNING", "FINISHED_LENGTH_CAPPED"]);

    expect(holdEnds.map((h) => [h.engineId, h.requestId, h.outcome])).toEqual([
      ["p", "r1", "read"],
    ]);
    const readEnd = holdEnds[0]!.time;
    const finishedAt = p.find((s) => s.status === "FINISHED_LENGTH_CAPPED")!.time;
    // Held: from the prefill leg's finish until the read completes.
    const held = p.filter((s) => s.time >= finishedAt && s.time < readEnd);
    expect(held.length).toBeGreaterThan(0);
    const heldPerc = usageOf(instance(cluster, "p"), blocksForN);
    for (const s of held) {
      expect(s).toMatchObject({
        status: "FINISHED_LENGTH_CAPPED",
        blocks: blocksForN,
        usage: heldPerc,
        running: 0,
        waiting: 0,
        held: 1,
        // Published at the end of the step that finished it: neither running nor waiting.
        gaugeUsage: heldPerc,
        gaugeRunning: 0,
        gaugeWaiting: 0,
      });
    }
    // Freed once the read completes: nothing of r1 is held after that instant.
    const after = p.filter((s) => s.time > readEnd);
    expect(after.length).toBeGreaterThan(0);
    for (const s of after) {
      expect(s).toMatchObject({ blocks: 0, usage: 0, held: 0, gaugeUsage: 0 });
    }
    expect(sample(cluster, "p", "pdsim:kv_held_requests_total", { outcome: "read" })).toBe(1);
    expectNothingHeld(cluster);
  });

  it("the decode leg waits in WAITING_FOR_REMOTE_KVS, counted as waiting with blocks for all N tokens, then computes exactly one token from N − 1", () => {
    const { cluster, transfers } = pdCluster(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]),
    );
    const decode = instance(cluster, "d");
    const scheduled = spyOnScheduled(cluster, "d", "r1");
    const d = stepThrough(cluster, "r1").get("d")!;
    expect(statusSequence(d)).toEqual([
      "WAITING",
      "WAITING_FOR_REMOTE_KVS",
      "RUNNING",
      "FINISHED_LENGTH_CAPPED",
    ]);

    const waitingForKv = d.filter((s) => s.status === "WAITING_FOR_REMOTE_KVS");
    const perc = usageOf(decode, blocksForN);
    for (const s of waitingForKv) {
      expect(s).toMatchObject({
        // num_computed_tokens already counts the local hit (0) and the promised external tokens.
        numComputedTokens: N,
        blocks: blocksForN,
        usage: perc,
        running: 0,
        waiting: 1,
        gaugeUsage: perc,
        gaugeRunning: 0,
        gaugeWaiting: 1,
      });
    }
    // It waits exactly as long as the read takes.
    const wait = waitingForKv.at(-1)!.time - waitingForKv[0]!.time;
    expect(wait).toBe(readTimeUs(N));
    expect(transfers.map((t) => [t.requestId, t.endTime - t.startTime])).toEqual([
      ["r1", readTimeUs(N)],
    ]);

    // Promoted with num_computed_tokens = N − 1, it computes one token, then decodes 4 more.
    expect(scheduled).toEqual([
      { from: N - 1, tokens: 1 },
      { from: N, tokens: 1 },
      { from: N + 1, tokens: 1 },
      { from: N + 2, tokens: 1 },
      { from: N + 3, tokens: 1 },
    ]);
    const running = d.filter((s) => s.status === "RUNNING");
    expect(running[0]).toMatchObject({ running: 1, waiting: 0, blocks: blocksForN });
  });

  it("moves exactly N − L tokens and (N − L) × kv_bytes_per_token bytes, counted alike on both sides", () => {
    const run = runPd(onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]));
    const sent = { peer: "d", direction: "send" };
    const recv = { peer: "p", direction: "recv" };
    const c = run.cluster;
    expect({
      sentTokens: sample(c, "p", "pdsim:kv_transfer_tokens_total", sent),
      sentBytes: sample(c, "p", "pdsim:kv_transfer_bytes_total", sent),
      recvTokens: sample(c, "d", "pdsim:kv_transfer_tokens_total", recv),
      recvBytes: sample(c, "d", "pdsim:kv_transfer_bytes_total", recv),
      sentOk: sample(c, "p", "pdsim:kv_transfers_total", { ...sent, outcome: "ok" }),
      recvOk: sample(c, "d", "pdsim:kv_transfers_total", { ...recv, outcome: "ok" }),
    }).toEqual({
      sentTokens: N,
      sentBytes: N * KV_BYTES_PER_TOKEN,
      recvTokens: N,
      recvBytes: N * KV_BYTES_PER_TOKEN,
      sentOk: 1,
      recvOk: 1,
    });
    expect(sample(c, "d", "pdsim:kv_transfer_duration_seconds_sum", recv)).toBeCloseTo(
      readTimeUs(N) / 1e6,
      12,
    );
  });

  it("the decode side's local prefix hit shrinks the transfer to the blocks it lacks, and the decode leg reports c = N − 1, e = N − L", () => {
    // r1 primes the decode side's cache; r2 shares its 64-token prefix (L = 64); r3 repeats r1
    // whole, so every block below N − 1 hits (L = ⌊99/16⌋·16 = 96) and only the last 4 tokens move.
    const run = runPd(
      onePOneD([
        {
          id: "r1",
          at_s: 0,
          prompt_tokens: 100,
          prefix: { group: "sys", tokens: 64 },
          max_tokens: 4,
        },
        {
          id: "r2",
          at_s: 1,
          prompt_tokens: 90,
          prefix: { group: "sys", tokens: 64 },
          max_tokens: 4,
        },
        { id: "r3", at_s: 2, prompt_from: "r1", max_tokens: 4 },
      ]),
    );
    const expected = [
      { id: "r1", n: 100, l: 0 },
      { id: "r2", n: 90, l: 64 },
      { id: "r3", n: 100, l: 96 },
    ];
    expect(run.transfers.map((t) => [t.requestId, t.tokens, t.bytes, t.outcome])).toEqual(
      expected.map((r) => [r.id, r.n - r.l, (r.n - r.l) * KV_BYTES_PER_TOKEN, "ok"]),
    );
    for (const { id, n, l } of expected) {
      const leg = run.records.find((r) => r.id === id)!.legs[1]!;
      expect({ id, ...leg }).toMatchObject({
        id,
        instance: "d",
        num_cached_tokens: n - 1,
        num_external_computed_tokens: n - l,
        reported: {
          "vllm-pr37460": {
            local_compute: 0,
            local_cache_hit: l,
            external_kv_transfer: n - l,
            cached: n,
          },
        },
      });
    }
    const c = run.cluster;
    const moved = expected.reduce((sum, r) => sum + r.n - r.l, 0);
    expect({
      queries: sample(c, "d", "vllm:prefix_cache_queries_total"),
      hits: sample(c, "d", "vllm:prefix_cache_hits_total"),
      externalQueries: sample(c, "d", "vllm:external_prefix_cache_queries_total"),
      externalHits: sample(c, "d", "vllm:external_prefix_cache_hits_total"),
      recvTokens: sample(c, "d", "pdsim:kv_transfer_tokens_total"),
      sentTokens: sample(c, "p", "pdsim:kv_transfer_tokens_total"),
    }).toEqual({
      queries: 290,
      hits: 160,
      externalQueries: moved,
      externalHits: moved,
      recvTokens: moved,
      sentTokens: moved,
    });
    expectNothingHeld(c);
  });

  it("on the decode instance TTFT and queue time run from its own arrival, the queue includes the transfer wait, and prefill covers only the 1-token step", () => {
    const run = runPd(onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]));
    const prefillStepUs = STEP_TIME.base_ms * 1000 + N * STEP_TIME.per_prefill_token_us;
    const oneTokenStepUs = STEP_TIME.base_ms * 1000 + STEP_TIME.per_prefill_token_us;
    const arrival = prefillStepUs; // the prefill leg's finish
    const scheduled = arrival + readTimeUs(N);
    const firstToken = scheduled + oneTokenStepUs;
    const [p, d] = run.records[0]!.legs;
    expect(p).toMatchObject({ arrival_s: 0, first_scheduled_s: 0, first_token_s: arrival / 1e6 });
    expect(d).toMatchObject({
      arrival_s: arrival / 1e6,
      first_scheduled_s: scheduled / 1e6,
      first_token_s: firstToken / 1e6,
    });
    const c = run.cluster;
    const seconds = (metric: string) => sample(c, "d", metric);
    expect(seconds("vllm:time_to_first_token_seconds_sum")).toBeCloseTo(
      (firstToken - arrival) / 1e6,
      9,
    );
    expect(seconds("vllm:request_queue_time_seconds_sum")).toBeCloseTo(readTimeUs(N) / 1e6, 9);
    expect(seconds("vllm:request_prefill_time_seconds_sum")).toBeCloseTo(oneTokenStepUs / 1e6, 9);
    expect(sample(c, "p", "vllm:request_queue_time_seconds_sum")).toBe(0);
    expect(sample(c, "p", "vllm:request_prefill_time_seconds_sum")).toBeCloseTo(
      prefillStepUs / 1e6,
      9,
    );
  });

  it("the client's record lists the prefill leg then the decode leg, and takes its first token, finish and output from the decode leg", () => {
    const run = runPd(onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]));
    expect(run.records).toHaveLength(1);
    const record = run.records[0]!;
    const [p, d] = record.legs;
    expect(
      record.legs.map((l) => [l.instance, l.role, l.finish_reason, l.num_output_tokens]),
    ).toEqual([
      ["p", "prefill", "length", 1],
      ["d", "decode", "length", 5],
    ]);
    expect(record).toMatchObject({
      id: "r1",
      prompt_tokens: N,
      max_tokens: 5,
      finish_reason: "length",
      first_token_s: d!.first_token_s,
      finish_s: d!.last_token_s,
    });
    // The prefill leg's one token is not the client's first token.
    expect(record.first_token_s).toBeGreaterThan(p!.first_token_s!);
    expect(p).toMatchObject({ num_cached_tokens: 0, num_external_computed_tokens: 0 });
  });

  it("the proxy sends the prefill leg with max_tokens 1 and do_remote_decode, then the original request with the prefill side's kv_transfer_params to the decode instance", () => {
    const { cluster } = pdCluster(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }]),
    );
    const p = instance(cluster, "p");
    const d = instance(cluster, "d");
    const toP = vi.spyOn(p, "submit");
    const toPEngine = vi.spyOn(p.engine, "addRequest");
    let heldByP: number[] = [];
    const submitToD = d.submit.bind(d);
    const toD = vi.spyOn(d, "submit").mockImplementation((leg, onDone) => {
      // The decode leg is sent when the prefill leg finishes: these are the blocks it holds.
      const [prefillRequest] = toPEngine.mock.calls.map(([request]) => request);
      heldByP = [...p.engine.kvCacheManager.getBlockIds(prefillRequest!)];
      submitToD(leg, onDone);
    });
    cluster.run();
    expect(toP.mock.calls.map(([leg]) => leg)).toEqual([
      expect.objectContaining({
        id: "r1",
        maxTokens: 1,
        kvTransferParams: {
          do_remote_decode: true,
          do_remote_prefill: false,
          remote_engine_id: null,
          remote_block_ids: null,
          remote_request_id: null,
          remote_host: null,
          remote_port: null,
        },
      }),
    ]);
    expect(heldByP).toHaveLength(blocksForN);
    expect(toD.mock.calls.map(([leg]) => leg)).toEqual([
      expect.objectContaining({
        id: "r1",
        maxTokens: 5,
        kvTransferParams: expect.objectContaining({
          do_remote_prefill: true,
          do_remote_decode: false,
          remote_engine_id: "p",
          remote_request_id: "r1",
          remote_block_ids: heldByP,
          tp_size: 1,
        }),
      }),
    ]);
    expect(toD.mock.calls[0]![0].prompt).toBe(toP.mock.calls[0]![0].prompt);
  });

  it("a prefill leg that samples EOS finishes with stop, still holds its blocks, and hands off to the decode instance", () => {
    // The model would emit EOS as its first token, on either instance.
    const run = runPd(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5, output_tokens: 1 }]),
    );
    const [p, d] = run.records[0]!.legs;
    expect(p).toMatchObject({ instance: "p", finish_reason: "stop", num_output_tokens: 1 });
    expect(d).toMatchObject({ instance: "d", finish_reason: "stop", num_output_tokens: 1 });
    expect(run.transfers.map((t) => [t.requestId, t.tokens, t.outcome])).toEqual([["r1", N, "ok"]]);
    expect(run.holdEnds.map((h) => h.outcome)).toEqual(["read"]);
    expectNothingHeld(run.cluster);
  });
});
