// The proxy's policies for unified instances, seen from where each request ran.
import { describe, expect, it } from "vitest";
import type { ExplicitRequestConfig, RoutingPolicy } from "../../src/scenario/index.ts";
import { routeOf, runCluster, scenarioFrom } from "./helpers.ts";

type ExplicitRequest = Omit<ExplicitRequestConfig, "line">;

function routed(policy: RoutingPolicy, numInstances: number, requests: ExplicitRequest[]) {
  const scenario = scenarioFrom({
    engine: { block_size: 16, num_gpu_blocks: 256, max_model_len: 1024 },
    instances: Array.from({ length: numInstances }, (_, i) => ({
      name: `u${i}`,
      role: "unified",
    })),
    proxy: { unified_policy: policy },
    workload: { requests },
  });
  return runCluster(scenario);
}

describe("routing over several unified instances", () => {
  it("round_robin sends each request to the next instance in turn, whatever their load", () => {
    // r1 is long and r2..r7 short, so a load-aware policy would avoid u0 while r1 runs.
    const requests = [
      { id: "r1", at_s: 0, prompt_tokens: 100, max_tokens: 400 },
      ...[2, 3, 4, 5, 6, 7].map((i) => ({
        id: `r${i}`,
        at_s: i * 0.1,
        prompt_tokens: 50,
        max_tokens: 2,
      })),
    ];
    const route = routeOf(routed("round_robin", 3, requests));
    expect([...route]).toEqual([
      ["r1", "u0"],
      ["r2", "u1"],
      ["r3", "u2"],
      ["r4", "u0"],
      ["r5", "u1"],
      ["r6", "u2"],
      ["r7", "u0"],
    ]);
  });

  it("least_loaded sends each request to the instance with the fewest running + waiting, ties to the first", () => {
    // r1 keeps u0 busy for about 1 s; r2 finishes on u1 long before r3 arrives.
    const route = routeOf(
      routed("least_loaded", 2, [
        { id: "r1", at_s: 0, prompt_tokens: 100, max_tokens: 200 },
        { id: "r2", at_s: 0.01, prompt_tokens: 50, max_tokens: 1 },
        { id: "r3", at_s: 0.3, prompt_tokens: 50, max_tokens: 200 },
        { id: "r4", at_s: 0.31, prompt_tokens: 50, max_tokens: 1 },
        { id: "r5", at_s: 5, prompt_tokens: 50, max_tokens: 1 },
      ]),
    );
    expect([...route]).toEqual([
      ["r1", "u0"], // both empty: the first
      ["r2", "u1"], // u0 holds r1
      ["r3", "u1"], // r2 is done, u1 is empty (round robin would pick u0)
      ["r4", "u0"], // one each: the first
      ["r5", "u0"], // all done: the first
    ]);
  });

  it("prefix_aware sends a repeated prompt to the instance that cached it", () => {
    const run = routed("prefix_aware", 3, [
      { id: "a", at_s: 0, prompt_tokens: 300, max_tokens: 50 },
      { id: "b", at_s: 0.01, prompt_tokens: 300, max_tokens: 50 },
      { id: "c", at_s: 0.02, prompt_tokens: 300, max_tokens: 50 },
      // Everything has drained by now, so load no longer tells the instances apart.
      { id: "c-again", at_s: 5, prompt_from: "c", max_tokens: 5 },
      { id: "b-again", at_s: 6, prompt_from: "b", max_tokens: 5 },
      { id: "a-again", at_s: 7, prompt_from: "a", max_tokens: 5 },
      { id: "fresh", at_s: 8, prompt_tokens: 300, max_tokens: 5 },
    ]);
    const route = routeOf(run);
    expect([...route]).toEqual([
      ["a", "u0"],
      ["b", "u1"],
      ["c", "u2"],
      ["c-again", "u2"],
      ["b-again", "u1"],
      ["a-again", "u0"],
      ["fresh", "u0"], // no instance has it cached and all are idle: the first
    ]);
    const hits = Object.fromEntries(
      run.records.map((r) => [r.id, r.legs[0]!.truth?.local_cache_hit]),
    );
    // ⌊(300 − 1) / 16⌋ · 16 = 288 tokens of each repeat came from the instance's prefix cache.
    expect(hits).toMatchObject({ "a-again": 288, "b-again": 288, "c-again": 288, fresh: 0 });
  });
});
