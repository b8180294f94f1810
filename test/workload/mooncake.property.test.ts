// Mooncake traces replayed: a request's prefix-cache hit on an instance that never evicts is
// exactly what its hash ids promise, and the invariant catalogue holds on P/D runs of any small
// generated trace.
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { parseScenario } from "../../src/scenario/index.ts";
import { traceSourceOf } from "../../src/workload/trace/trace-file.ts";
import { traceStats } from "../../src/workload/trace/trace-stats.ts";
import { removeDir, scratchDir } from "../e2e/cli.ts";
import { catalogueRun } from "../support/catalogue.ts";
import { expectReached, propertyParamsWithRuns } from "../support/property.ts";
import { type MooncakeLine, mooncakeTrace, writeMooncake } from "./mooncake-traces.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));
let files = 0;

function scenarioFor(trace: MooncakeLine[], blockTokens: number, lines: readonly string[]) {
  const file = path.join(dir, `trace-${files++}.jsonl`);
  writeMooncake(file, trace);
  const text = [
    ...lines,
    "workload:",
    `  trace: { format: mooncake, path: ${path.basename(file)}, block_tokens: ${blockTokens} }`,
  ].join("\n");
  return parseScenario(text, path.join(dir, "scenario.yaml"));
}

/** Hits per request as vLLM's cap allows them, from the trace alone. */
function expectedHits(trace: MooncakeLine[], blockTokens: number, blockSize: number): number[] {
  const seen = new Set<number>();
  return trace.map((r) => {
    let k = 0;
    while (k < r.hash_ids.length && seen.has(r.hash_ids[k]!)) k += 1;
    for (const id of r.hash_ids) seen.add(id);
    const cap = Math.floor((r.input_length - 1) / blockSize) * blockSize;
    return Math.min(k * blockTokens, cap);
  });
}

describe("a Mooncake trace replayed", () => {
  it("hits, request by request, min(k·block_tokens, ⌊(N−1)/B⌋·B) on a cache that never evicts", () => {
    const reached: Record<"fullHit" | "partialHit" | "miss" | "partialLastBlock", boolean>[] = [];
    fc.assert(
      fc.property(
        fc.constantFrom(64, 128, 512).chain((blockTokens) =>
          fc.record({
            blockTokens: fc.constant(blockTokens),
            blockSize: fc.constantFrom(...[16, 32, 64].filter((b) => blockTokens % b === 0)),
            // Arrivals a minute apart: each request is done before the next, as in the paper's replay.
            trace: mooncakeTrace(blockTokens, { gapMs: 60_000 }),
          }),
        ),
        ({ blockTokens, blockSize, trace }) => {
          const scenario = scenarioFor(trace, blockTokens, [
            "instances: [{ name: u, role: unified }]",
            `engine: { block_size: ${blockSize}, num_gpu_blocks: 4096, max_model_len: 8192 }`,
          ]);
          const records: RequestRecord[] = [];
          new Cluster(scenario, 0, { onRequestFinished: (r) => records.push(r) }).run();
          records.sort((a, b) => a.arrival_s - b.arrival_s || a.id.localeCompare(b.id));
          const hits = records.map((r) => r.legs[0]!.num_cached_tokens);
          const expected = expectedHits(trace, blockTokens, blockSize);
          expect(hits).toEqual(expected);
          // trace stats' ideal ratio is the same sum.
          const file = path.join(dir, `trace-${files - 1}.jsonl`);
          const stats = traceStats(
            traceSourceOf("mooncake", "t", file, { block_tokens: blockTokens }),
            blockSize,
          );
          const total = trace.reduce((s, r) => s + r.input_length, 0);
          expect(stats.ideal_prefix_hit_ratio).toBeCloseTo(
            expected.reduce((a, b) => a + b, 0) / total,
            12,
          );
          reached.push({
            fullHit: trace.some(
              (r, i) =>
                expected[i] === Math.floor((r.input_length - 1) / blockSize) * blockSize &&
                expected[i]! > 0,
            ),
            partialHit: expected.some(
              (h, i) =>
                h > 0 && h < Math.floor((trace[i]!.input_length - 1) / blockSize) * blockSize,
            ),
            miss: expected.some((h, i) => i > 0 && h === 0),
            partialLastBlock: trace.some((r) => r.input_length % blockTokens !== 0),
          });
        },
      ),
      propertyParamsWithRuns(40),
    );
    expectReached("mooncake hits", reached, 0.2);
  });

  it("keeps every invariant of the catalogue on 1P1D and 2P2D runs", () => {
    const reached: Record<"transfer" | "prefillHit" | "decodeHit" | "preemption", boolean>[] = [];
    fc.assert(
      fc.property(
        mooncakeTrace(128, { gapMs: 5, maxOutput: 200 }),
        fc.constantFrom("1p1d", "2p2d"),
        fc.constantFrom("nixl", "p2p_nccl"),
        (trace, topology, connector) => {
          const instances =
            topology === "1p1d"
              ? "[{ name: p0, role: prefill }, { name: d0, role: decode }]"
              : "[{ name: p0, role: prefill }, { name: p1, role: prefill }, { name: d0, role: decode }, { name: d1, role: decode }]";
          const scenario = scenarioFor(trace, 128, [
            `instances: ${instances}`,
            "engine: { block_size: 16, num_gpu_blocks: 60, max_model_len: 900, max_num_batched_tokens: 256 }",
            `kv_transfer: { connector: ${connector} }`,
            "proxy: { prefill_policy: prefix_aware }",
          ]);
          const { verdict, broken } = catalogueRun(scenario);
          expect(verdict.error).toBeNull();
          expect(broken).toEqual([]);
          const { records, transfers } = verdict.run.outputs;
          const legs = records.flatMap((r) => r.legs);
          reached.push({
            transfer: transfers.length > 0,
            prefillHit: legs.some((l) => l.role === "prefill" && l.num_cached_tokens > 0),
            decodeHit: legs.some((l) => l.role === "decode" && l.num_cached_tokens > 0),
            preemption: legs.some((l) => l.num_preemptions > 0),
          });
        },
      ),
      propertyParamsWithRuns(15),
    );
    expectReached("mooncake P/D runs", reached, 0.1);
  });
});

it("writes generated traces the way the loader reads them", () => {
  const file = path.join(dir, "one.jsonl");
  writeMooncake(file, [{ timestamp: 5, input_length: 3, output_length: 2, hash_ids: [7] }]);
  expect(fs.readFileSync(file, "utf8")).toBe(
    '{"timestamp":5,"input_length":3,"output_length":2,"hash_ids":[7]}\n',
  );
});
