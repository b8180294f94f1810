// Tier connectors beside the P/D ones in whole runs: what each leaves behind when the run drains.
import { describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import { resolveScenarioData } from "../../src/scenario/index.ts";

/** 1P1D whose MultiConnector asks a shared LMCache tier before P2P NCCL: the tier often wins. */
function tierBeforePush(): Cluster {
  const scenario = resolveScenarioData(
    {
      seed: 5,
      engine: {
        block_size: 16,
        num_gpu_blocks: 400,
        max_model_len: 1400,
        max_num_batched_tokens: 512,
      },
      instances: [
        { name: "p0", role: "prefill" },
        { name: "d0", role: "decode" },
      ],
      kv_cache_tiers: [{ name: "cpu", scope: "cluster", capacity_tokens: 4096, chunk_tokens: 100 }],
      kv_transfer: {
        connector: "multi",
        connectors: [{ connector: "lmcache", tier: "cpu" }, { connector: "p2p_nccl" }],
      },
      workload: {
        num_requests: 60,
        arrival: { process: "poisson", rate_per_s: 30 },
        prompt_tokens: { dist: "uniform", min: 100, max: 900 },
        max_tokens: { dist: "constant", value: 8 },
        shared_prefix: { groups: 2, tokens: 300, probability: 0.9 },
      },
    },
    "tier-before-push.yaml",
  );
  return new Cluster(scenario, scenario.seed);
}

describe("a tier connector beside a P/D one", () => {
  it("leaves no pushed KV behind when the tier supplied the decode side instead", () => {
    const cluster = tierBeforePush();
    cluster.run();
    const decode = cluster.instances[1]!.statLoggers.prometheus;
    // The tier did win some lookups on the decode side (P2P answers N − 1 − L otherwise).
    expect(decode.sampleValue("vllm:external_prefix_cache_hits_total")).toBeGreaterThan(0);
    expect(cluster.tiers.get("cpu")!.totals.loadedTokens).toBeGreaterThan(0);
    expect(cluster.fabric!.numPushes).toBe(0);
  });
});
