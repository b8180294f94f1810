// The external-cache scenarios end to end: pdsim run with --out, the tiers' totals in
// summary.json and the offload metrics in the exposition, and an exit code 2 for a bad tier.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, pdsim, scratchDir } from "./cli.ts";

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");

describe("pdsim run with kv_cache_tiers", () => {
  it("writes each tier's totals in summary.json, stored − evicted = resident", async () => {
    const out = path.join(scratchDir(), "out");
    const result = await pdsim(
      "run",
      "scenarios/shared-cache-cold-warm.yaml",
      "--out",
      out,
      "--quiet",
    );
    expect(result.status).toBe(0);
    const summary = JSON.parse(read(out, "summary.json")) as { kv_cache_tiers: unknown[] };
    // The cold call saved three whole chunks of 256; the warm call loaded them.
    expect(summary.kv_cache_tiers).toEqual([
      {
        name: "lmcache",
        capacity_tokens: 65536,
        stored_tokens: 768,
        loaded_tokens: 768,
        evicted_tokens: 0,
        resident_tokens: 768,
        stores_refused: 0,
      },
    ]);
  });

  it("exports the OffloadingConnector's metrics, the bytes matching the tokens the tier moved", async () => {
    const out = path.join(scratchDir(), "out");
    expect((await pdsim("run", "scenarios/cpu-offload.yaml", "--out", out, "--quiet")).status).toBe(
      0,
    );
    const summary = JSON.parse(read(out, "summary.json")) as {
      kv_cache_tiers: {
        stored_tokens: number;
        loaded_tokens: number;
        evicted_tokens: number;
        resident_tokens: number;
      }[];
    };
    const [tier] = summary.kv_cache_tiers;
    expect(tier!.stored_tokens - tier!.evicted_tokens).toBe(tier!.resident_tokens);
    const prom = read(out, "metrics/unified-0.prom");
    const bytes = (type: string) =>
      Number(
        new RegExp(
          `^vllm:kv_offload_total_bytes_total\\{[^}]*transfer_type="${type}"\\} (\\S+)$`,
          "m",
        ).exec(prom)![1],
      );
    const kvBytesPerToken = 114688; // Qwen3-0.6B, the scenario's default model
    expect(bytes("CPU_to_GPU")).toBe(tier!.loaded_tokens * kvBytesPerToken);
    expect(bytes("GPU_to_CPU")).toBe(tier!.stored_tokens * kvBytesPerToken);
  });

  it("refuses a tier too small for one chunk with exit 2 and writes nothing", async () => {
    const dir = scratchDir();
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(
      file,
      [
        "instances: [ { name: u, role: unified } ]",
        "workload: { requests: [ { id: r1, at_s: 0, prompt_tokens: 17, max_tokens: 5 } ] }",
        "kv_cache_tiers: [ { name: cpu, capacity_tokens: 100, chunk_tokens: 256 } ]",
        "kv_transfer: { connector: lmcache, tier: cpu }",
        "",
      ].join("\n"),
    );
    const out = path.join(dir, "out");
    const result = await pdsim("run", file, "--out", out);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `${file}:3:49: kv_cache_tiers[0].capacity_tokens: tier 'cpu' holds 100 tokens, less than one chunk of 256`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it("ends a run whose engine deadlocks with exit 3 and one line saying why, and writes nothing", async () => {
    const out = path.join(scratchDir(), "out");
    const result = await pdsim("run", fixture("offload-stall.yaml"), "--out", out, "--quiet");
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(
      /^pdsim: the simulation stalled at t=[\d.]+ s: u0: \d+ unfinished \(running 0, waiting \d+\), \d+ blocks free; \d+ waiting requests hold \d+ blocks their KV loads filled/,
    );
    expect(result.stderr).not.toContain("    at ");
    expect(fs.existsSync(out)).toBe(false);
  });
});
