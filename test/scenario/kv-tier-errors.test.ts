import { describe, expect, it } from "vitest";
import { lines, loadScenarioText, onlyIssue, PD_BASE } from "./helpers.ts";

const TIER = "kv_cache_tiers: [ { name: cpu, capacity_tokens: 4096, chunk_tokens: 64 } ]";

describe("external KV cache tiers and their connectors: bad input", () => {
  it("refuses a tier too small for one chunk, at its capacity", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE,
        "kv_cache_tiers: [ { name: cpu, capacity_tokens: 100, chunk_tokens: 256 } ]",
        "kv_transfer: { connector: multi, connectors: [ { connector: nixl }, { connector: lmcache, tier: cpu } ] }",
      ),
    );
    expect(issue).toMatchObject({ line: 7, path: "kv_cache_tiers[0].capacity_tokens" });
    expect(issue.message).toBe(
      "tier 'cpu' holds 100 tokens, less than one chunk of 256; expected at least chunk_tokens",
    );
  });

  it("refuses an offloaded block that is not a multiple of an instance's block size", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE,
        "kv_cache_tiers: [ { name: cpu, capacity_tokens: 4096, chunk_tokens: 40 } ]",
        "kv_transfer: { connector: multi, connectors: [ { connector: nixl }, { connector: offloading, tier: cpu } ] }",
      ),
    );
    expect(issue).toMatchObject({ line: 8, path: "kv_transfer.connectors[1].tier" });
    expect(issue.message).toContain("must be a multiple of instance 'prefill-0''s block_size 16");
  });

  it("lets an lmcache chunk be any size: LMCache asks nothing of the block size", () => {
    const text = lines(
      ...PD_BASE,
      "kv_cache_tiers: [ { name: cpu, capacity_tokens: 4096, chunk_tokens: 40 } ]",
      "kv_transfer: { connector: multi, connectors: [ { connector: nixl }, { connector: lmcache, tier: cpu } ] }",
    );
    expect(loadScenarioText(text).kv_cache_tiers[0]!.chunk_tokens).toBe(40);
  });

  it("refuses an empty multi list and a multi inside a multi", () => {
    const empty = onlyIssue(lines(...PD_BASE, "kv_transfer: { connector: multi, connectors: [] }"));
    expect(empty).toMatchObject({ line: 7, path: "kv_transfer.connectors" });
    expect(empty.message).toMatch(/^a multi connector needs a non-empty 'connectors' list/);
    const nested = onlyIssue(
      lines(
        ...PD_BASE,
        "kv_transfer: { connector: multi, connectors: [ { connector: nixl }, { connector: multi } ] }",
      ),
    );
    expect(nested).toMatchObject({ line: 7, path: "kv_transfer.connectors[1].connector" });
    expect(nested.message).toMatch(/^a multi connector cannot hold another multi/);
  });

  it("names the nearest tier when a connector names one that does not exist", () => {
    const issue = onlyIssue(
      lines(
        ...PD_BASE,
        TIER,
        "kv_transfer: { connector: multi, connectors: [ { connector: nixl }, { connector: offloading, tier: cpus } ] }",
      ),
    );
    expect(issue.path).toBe("kv_transfer.connectors[1].tier");
    expect(issue.message).toMatch(/^no tier named 'cpus'.*'cpu'/);
  });

  it("refuses a P/D instance whose connector cannot move KV from prefill to decode", () => {
    const issue = onlyIssue(
      lines(...PD_BASE, TIER, "kv_transfer: { connector: offloading, tier: cpu }"),
    );
    expect(issue.path).toBe("kv_transfer.connector");
    expect(issue.message).toMatch(/^prefill instance 'prefill-0' runs offloading/);
  });

  it("refuses a shared tier behind the OffloadingConnector, which keeps its tier in-process", () => {
    const issue = onlyIssue(
      lines(
        "instances: [ { name: u, role: unified } ]",
        "workload: { requests: [ { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 } ] }",
        "kv_cache_tiers: [ { name: cpu, scope: cluster, capacity_tokens: 4096, chunk_tokens: 64 } ]",
        "kv_transfer: { connector: offloading, tier: cpu }",
      ),
    );
    expect(issue.message).toMatch(/scope cluster, but vLLM's OffloadingConnector/);
  });

  it("needs a tier's size, in tokens or GB but not both", () => {
    const none = onlyIssue(lines(...PD_BASE, "kv_cache_tiers: [ { name: cpu } ]"));
    expect(none.message).toBe("a tier needs its size: capacity_tokens or capacity_gb");
  });
});

describe("external KV cache tiers: more bad input", () => {
  const UNIFIED = [
    "instances: [ { name: u, role: unified } ]",
    "workload: { requests: [ { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 } ] }",
  ];

  it("refuses a tier given in GB that holds less than one chunk at the model's KV size", () => {
    const issue = onlyIssue(
      lines(
        ...UNIFIED,
        "kv_cache_tiers: [ { name: cpu, capacity_gb: 0.000001, chunk_tokens: 256 } ]",
        "kv_transfer: { connector: lmcache, tier: cpu }",
      ),
    );
    expect(issue).toMatchObject({ line: 3, path: "kv_cache_tiers[0].capacity_gb" });
    expect(issue.message).toBe(
      "tier 'cpu' holds 0.000001 GB, 0 tokens at 114688 bytes a token, less than one chunk of 256; expected at least 0.0294 GB",
    );
  });

  it("refuses one tier under two connectors of a multi list", () => {
    const issue = onlyIssue(
      lines(
        ...UNIFIED,
        TIER,
        "kv_transfer: { connector: multi, connectors: [ { connector: offloading, tier: cpu }, { connector: lmcache, tier: cpu } ] }",
      ),
    );
    expect(issue.path).toBe("kv_transfer.connectors[1].tier");
    expect(issue.message).toMatch(/^tier 'cpu' is already in this list/);
  });

  it("refuses a P/D connector of a unified instance's own", () => {
    const issue = onlyIssue(
      lines(
        "instances: [ { name: u, role: unified, kv_transfer: { connector: nixl } } ]",
        "workload: { requests: [ { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 } ] }",
      ),
    );
    expect(issue.path).toBe("instances[0].kv_transfer.connector");
    expect(issue.message).toMatch(/^unified instance 'u' serves whole requests/);
  });
});
