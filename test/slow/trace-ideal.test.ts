// The whole Mooncake conversation trace replayed on one instance whose cache never evicts hits
// what `pdsim trace stats` says an infinite cache would: the trace's prefix structure reaches
// the prefix cache intact. (About 10 s: 12,031 requests, 145 M prompt tokens.)
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import { parseScenario } from "../../src/scenario/index.ts";
import { traceSourceOf } from "../../src/workload/trace/trace-file.ts";
import { traceStats } from "../../src/workload/trace/trace-stats.ts";
import { REPO } from "../check/catalogue-doc.ts";

const TRACE = path.join(REPO, "scenarios/traces/mooncake-conversation.jsonl");

it("hits the conversation trace's ideal prefix ratio on a cache that never evicts", () => {
  // 4,000,000 blocks of 32 tokens hold the trace's 90.7 M distinct prompt tokens and more.
  const blockSize = 32;
  const scenario = parseScenario(
    [
      "instances: [{ name: u, role: unified }]",
      `engine: { block_size: ${blockSize}, num_gpu_blocks: 4000000, max_model_len: 131072, max_num_batched_tokens: 16384, max_num_seqs: 256 }`,
      `workload: { trace: { format: mooncake, path: ${TRACE} } }`,
    ].join("\n"),
    path.join(REPO, "scenarios", "ideal.yaml"),
  );
  const cluster = new Cluster(scenario, 0);
  cluster.run();
  const exposition = cluster.instances[0]!.statLoggers.prometheus;
  const hits = exposition.sampleValue("vllm:prefix_cache_hits_total")!;
  const queries = exposition.sampleValue("vllm:prefix_cache_queries_total")!;
  const ideal = traceStats(traceSourceOf("mooncake", TRACE, TRACE), blockSize);
  expect(queries).toBe(ideal.total_input_tokens);
  // Within half a percentage point, as the issue asks; today they are equal to the token.
  expect(Math.abs(hits / queries - ideal.ideal_prefix_hit_ratio)).toBeLessThan(0.005);
  expect(hits).toBe(Math.round(ideal.ideal_prefix_hit_ratio * ideal.total_input_tokens));
});

it("keeps what guide chapter 6 says of a 3 M- and a 50 M-token cache, in sequence", () => {
  const guide = fs.readFileSync(path.join(REPO, "docs/guide/06-replaying-real-traffic.md"), "utf8");
  const ideal = 0.3736; // the ideal ratio at block size 16 the chapter quotes (37.4 %)
  expect(guide).toContain("of the ideal 37.4 %");
  for (const [tokens, blocks] of [
    ["3 M", 187_500],
    ["50 M", 3_125_000],
  ] as const) {
    const scenario = parseScenario(
      [
        "instances: [{ name: u, role: unified }]",
        `engine: { block_size: 16, num_gpu_blocks: ${blocks}, max_model_len: 131072, max_num_batched_tokens: 16384 }`,
        "workload:",
        "  concurrency: 1",
        `  trace: { format: mooncake, path: ${TRACE} }`,
      ].join("\n"),
      path.join(REPO, "scenarios", "sizes.yaml"),
    );
    const cluster = new Cluster(scenario, 0);
    cluster.run();
    const exposition = cluster.instances[0]!.statLoggers.prometheus;
    const rate =
      exposition.sampleValue("vllm:prefix_cache_hits_total")! /
      exposition.sampleValue("vllm:prefix_cache_queries_total")!;
    const row = `| ${(100 * rate).toFixed(1)} %`;
    const share = `| ${Math.round((100 * rate) / ideal)} %`;
    const line = guide.split("\n").find((l) => l.startsWith(`| ${tokens} tokens`));
    expect(line, `the chapter's ${tokens} row`).toBeDefined();
    expect(line!.replace(/ +/g, " ")).toContain(row.replace(/ +/g, " "));
    expect(line!.replace(/ +/g, " ")).toContain(share.replace(/ +/g, " "));
  }
});
