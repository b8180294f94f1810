// `pdsim check` end to end: the report, the exit codes, the counterexample files and their
// replay with `pdsim run` and `pdsim explain`, and bad input.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listFiles, pdsim, removeDir, scratchDir, snapshot } from "./cli.ts";

let dirs: string[] = [];
const tmp = () => {
  const dir = scratchDir();
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs) removeDir(dir);
  dirs = [];
});

describe("pdsim check", () => {
  it("holds pd-basic to current vLLM's promises: every invariant held, exit 0", async () => {
    const r = await pdsim("check", "scenarios/pd-basic.yaml", "--runs", "6");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("profile vllm-pr37460, 6 runs (the scenario and 5 perturbations)");
    expect(r.stdout).toMatch(/^sources-sum-to-prompt +request +vllm-pr37460 +yes +held +0\/6$/m);
    expect(r.stdout).not.toContain("BROKEN");
  });

  it("finds vllm-pr33290's sum break on pd-basic with a one-request counterexample that replays", async () => {
    const out = path.join(tmp(), "cex");
    const r = await pdsim(
      "check",
      "scenarios/pd-basic.yaml",
      "--profile",
      "vllm-pr33290",
      "--runs",
      "6",
      "--out",
      out,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^sources-sum-to-prompt +request +vllm-pr33290 +no +BROKEN +\d+\/6$/m);
    expect(r.stdout).toContain(
      "BROKEN sources-sum-to-prompt for vllm-pr33290 (not promised by vllm-pr33290: a known departure)",
    );
    expect(r.stdout).toContain("Smallest counterexample found: 1P1D nixl, B=16: 1 request (N=1)");
    expect(r.stdout).toContain("r1@prefill-0: sources sum to 2 for a 1-token prompt");
    const file = path.join(out, "sources-sum-to-prompt.vllm-pr33290.yaml");
    expect(listFiles(out)).toContain("sources-sum-to-prompt.vllm-pr33290.yaml");
    expect(fs.readFileSync(path.join(out, "check.txt"), "utf8")).toBe(r.stdout);

    const run = await pdsim("run", file, "--json");
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout) as { profile: string; requests: { finished: number } };
    expect(summary.profile).toBe("vllm-pr33290");
    const explain = await pdsim("explain", file, "--request", "r1", "--json");
    expect(explain.status).toBe(0);
    const story = JSON.parse(explain.stdout) as {
      request: {
        prompt_tokens: number;
        legs: { instance: string; reported: Record<string, Record<string, number>> }[];
      };
    };
    const prefill = story.request.legs.find((l) => l.instance === "prefill-0")!;
    const v1 = prefill.reported["vllm-pr33290"]!;
    expect(v1.local_compute! + v1.local_cache_hit! + v1.external_kv_transfer!).toBe(
      story.request.prompt_tokens + 1,
    );
  });

  it("prints the same report for the same scenario and seed", async () => {
    const a = await pdsim(
      "check",
      "scenarios/prefix-hits.yaml",
      "--profile",
      "vllm-pr37160",
      "--runs",
      "5",
      "--seed",
      "7",
    );
    const b = await pdsim(
      "check",
      "scenarios/prefix-hits.yaml",
      "--profile",
      "vllm-pr37160",
      "--runs",
      "5",
      "--seed",
      "7",
    );
    expect(a.status).toBe(1);
    expect(b.stdout).toBe(a.stdout);
    // The counterexample is printed inline as a scenario to save.
    expect(a.stdout).toContain("Save this as local-hit-within-cap.vllm-pr37160.yaml");
    expect(a.stdout).toContain("    name: counterexample-local-hit-within-cap");
  });

  it.each([
    [["--runs", "0"], "pdsim: --runs must be a positive integer, got '0'"],
    [["--runs", "ten"], "pdsim: --runs must be a positive integer, got 'ten'"],
    [["--seed", "-1"], "pdsim: --seed must be a non-negative integer, got '-1'"],
  ])("refuses %j with exit 2 and one line", async (args, message) => {
    const r = await pdsim("check", "scenarios/pd-basic.yaml", ...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${message}\n`);
  });

  it("refuses a missing scenario file with exit 2", async () => {
    const r = await pdsim("check", "scenarios/no-such.yaml");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^pdsim: .*no-such\.yaml/);
  });

  it("refuses to write into a directory that holds something else, and leaves it untouched", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine\n");
    const before = snapshot(dir);
    const r = await pdsim(
      "check",
      "scenarios/pd-basic.yaml",
      "--profile",
      "vllm-pr33290",
      "--runs",
      "2",
      "--out",
      dir,
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("is not empty and does not hold a previous output (no check.txt)");
    expect(snapshot(dir)).toEqual(before);
    expect(fs.readdirSync(path.dirname(dir)).filter((f) => f.includes(".partial-"))).toEqual([]);
  });
});
