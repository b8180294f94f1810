import { describe, expect, it } from "vitest";
import { pdsim } from "../e2e/cli.ts";

/** The table row whose label is `label`, as its whitespace-separated cells. */
function row(section: string, label: string): string[] {
  const line = section.split("\n").find((l) => l.trimStart().startsWith(label));
  if (line === undefined) throw new Error(`no row '${label}' in:\n${section}`);
  return line.trim().slice(label.length).trim().split(/\s+/);
}

function sectionFor(stdout: string, instance: string): string {
  const start = stdout.indexOf(`came from on ${instance}:`);
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const next = stdout.indexOf("Where the", start + 1);
  return stdout.slice(start, next < 0 ? undefined : next);
}

describe("pdsim explain on the seed PR's request (scenarios/pd-basic.yaml, r1)", async () => {
  const run = await pdsim("explain", "scenarios/pd-basic.yaml", "--request", "r1");

  it("exits 0 and tells the decode leg's story: the async load, the −1 step, one computed token", () => {
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    const decode = lines.filter((l) => l.includes(" decode-0 "));
    expect(
      decode.some((l) => l.includes("L = 0; connector: N − L = 10 tokens to load asynchronously")),
    ).toBe(true);
    expect(decode.some((l) => l.includes("num_computed_tokens = N − 1 = 9 (the −1 step)"))).toBe(
      true,
    );
    expect(decode.some((l) => l.includes("computes token 9 (1 token)"))).toBe(true);
    expect(
      decode.some((l) => l.includes("finishes: length after 20 output tokens (19 decode steps)")),
    ).toBe(true);
    expect(
      lines.some(
        (l) => l.includes("prefill-0 → decode-0") && l.includes("10 tokens, 1146880 bytes"),
      ),
    ).toBe(true);
  });

  it("puts the truth next to every profile on the decode instance, with the sums", () => {
    const decode = sectionFor(run.stdout, "decode-0");
    // local_compute, local_cache_hit, external_kv, sum, cached, recomputed
    expect(row(decode, "truth (pdsim)").slice(0, 4)).toEqual(["1", "0", "9", "10"]);
    expect(row(decode, "vllm-pr33290").slice(0, 6)).toEqual(["1", "0", "10", "11", "9", "1"]);
    expect(row(decode, "vllm-pr38709").slice(0, 6)).toEqual(["1", "0", "10", "11", "9", "-"]);
    expect(row(decode, "vllm-pr37460").slice(0, 6)).toEqual(["0", "0", "10", "10", "10", "-"]);
    expect(decode).toContain("no source split; the log line's prompt throughput counts 10");
  });

  it("gives a one-line reason for each profile that differs, and none where all agree", () => {
    const decode = sectionFor(run.stdout, "decode-0");
    expect(decode).toContain(
      "vllm-pr33290: external_kv_transfer 10 vs 9: e = N − L counts the last token, transferred but overwritten by the −1 step",
    );
    expect(decode).toMatch(
      /vllm-pr37460: local_compute 0 vs 1, external_kv_transfer 10 vs 9: PrefillStats are recorded before the load/,
    );
    expect(sectionFor(run.stdout, "prefill-0")).toContain(
      "Every profile agrees with the truth here.",
    );
  });

  it("prints the same facts as JSON with --json", async () => {
    const json = await pdsim("explain", "scenarios/pd-basic.yaml", "--request", "r1", "--json");
    expect(json.status, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      request: { id: string; legs: { instance: string; truth: unknown }[] };
      accounting: { instance: string; reasons: string[] }[];
      events: { kind: string }[];
    };
    expect(parsed.request.id).toBe("r1");
    expect(parsed.request.legs.map((l) => l.instance)).toEqual(["prefill-0", "decode-0"]);
    expect(parsed.request.legs[1]!.truth).toEqual({
      local_compute: 1,
      local_cache_hit: 0,
      external_kv_transfer: 9,
    });
    expect(parsed.accounting.map((a) => a.reasons.length)).toEqual([0, 5]);
    expect(parsed.events.map((e) => e.kind)).toContain("promoted");
  });
});

describe("pdsim explain on the N − 1 rule (scenarios/prefix-hits.yaml)", () => {
  it("shows v1's r = 1 guess on a request whose last token sat in a partial block (r3, N = 33)", async () => {
    const run = await pdsim("explain", "scenarios/prefix-hits.yaml", "--request", "r3");
    expect(run.status, run.stderr).toBe(0);
    const unified = sectionFor(run.stdout, "unified-0");
    expect(row(unified, "truth (pdsim)").slice(0, 4)).toEqual(["1", "32", "0", "33"]);
    expect(row(unified, "vllm-pr33290").slice(0, 6)).toEqual(["1", "33", "0", "34", "32", "1"]);
    expect(unified).toContain(
      "num_cached_tokens = N − 1 triggers the guess r = 1, although nothing cached was recomputed",
    );
  });

  it("names the whole last block recomputed under the N − 1 cap (r2, N = 32)", async () => {
    const run = await pdsim("explain", "scenarios/prefix-hits.yaml", "--request", "r2");
    expect(run.stdout).toContain("(the last block is cached too, but the N−1 cap leaves it out)");
    expect(row(sectionFor(run.stdout, "unified-0"), "truth (pdsim)")).toContain("cache_hit_cap");
  });
});

describe("pdsim explain with bad input", () => {
  it("exits 2 for an unknown request id, suggesting the nearest", async () => {
    const run = await pdsim("explain", "scenarios/prefix-hits.yaml", "--request", "r9");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("no request 'r9'; did you mean 'r1'?");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 without --request", async () => {
    const run = await pdsim("explain", "scenarios/prefix-hits.yaml");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("request");
  });
});
