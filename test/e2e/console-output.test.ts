// What `pdsim run` prints: vLLM's log line per instance at its interval of simulated time, then
// the summary; `--quiet` drops the log lines, `--json` prints only summary.json.
import { describe, expect, it } from "vitest";
import { fixture, pdsim } from "./cli.ts";

const SCENARIO = fixture("two-instances.yaml");
/** log_stats_interval_s of each instance in the fixture. */
const INTERVALS: Record<string, number> = { "unified-0": 1, "unified-1": 1.5 };

const LOG_LINE =
  /^\[t=([0-9]+\.[0-9]{3})s (unified-[01])\] Engine 000: Avg prompt throughput: [0-9]+\.[0-9] tokens\/s, Avg generation throughput: [0-9]+\.[0-9] tokens\/s, Running: [0-9]+ reqs, Waiting: [0-9]+ reqs, (?:Preemptions: [0-9]+, )?GPU KV cache usage: [0-9]+\.[0-9]%, Prefix cache hit rate: [0-9]+\.[0-9]%$/;

const isLogLine = (line: string): boolean => line.startsWith("[t=");

describe("pdsim run console output", () => {
  it("prints each instance's vLLM log line at every multiple of its log_stats_interval_s, then the summary", async () => {
    const result = await pdsim("run", SCENARIO);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    const logLines = lines.filter(isLogLine);
    // The log lines come first, then the summary, which starts with the scenario's name.
    expect(lines.slice(0, logLines.length)).toEqual(logLines);
    expect(lines[logLines.length]).toMatch(/^two-instances: seed 7, profile vllm-pr37460; /);

    const times: Record<string, number[]> = { "unified-0": [], "unified-1": [] };
    for (const line of logLines) {
      const match = LOG_LINE.exec(line);
      expect(match, line).not.toBeNull();
      times[match![2]!]!.push(Number(match![1]));
    }
    for (const [instance, interval] of Object.entries(INTERVALS)) {
      const seen = times[instance]!;
      // The fixture keeps both instances busy, so no interval is skipped as idle.
      expect(seen.length, instance).toBeGreaterThanOrEqual(4);
      expect(seen, instance).toEqual(seen.map((_, k) => (k + 1) * interval));
    }
    const allTimes = logLines.map((line) => Number(LOG_LINE.exec(line)![1]));
    expect(allTimes).toEqual([...allTimes].sort((a, b) => a - b));
  });

  it("--quiet prints no log lines, only the summary", async () => {
    const result = await pdsim("run", SCENARIO, "--quiet");
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.filter(isLogLine)).toEqual([]);
    expect(lines[0]).toMatch(/^two-instances: seed 7, profile vllm-pr37460; 60 requests arrived/);
    expect(lines).toContain("expectations: 1 passed, 0 failed");
  });

  it("--json prints only the summary JSON on stdout", async () => {
    const result = await pdsim("run", SCENARIO, "--json");
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      scenario: { name: "two-instances" },
      seed: 7,
      profile: "vllm-pr37460",
      requests: { arrived: 60, finished: 60 },
      instances: [{ name: "unified-0" }, { name: "unified-1" }],
      expectations: [{ instance: "unified-0", passed: true }],
    });
    expect(result.stdout).not.toContain("[t=");
  });
});

describe("pdsim's help", () => {
  it("names every file run --out writes", async () => {
    const help = await pdsim("run", "--help");
    expect(help.status).toBe(0);
    const text = help.stdout.replace(/\s+/g, " ");
    for (const file of [
      "metrics/<instance>.prom",
      "metrics.om",
      "requests.jsonl",
      "trace.json",
      "report.html",
      "summary.json",
    ]) {
      expect(text).toContain(file);
    }
  });

  it("names every command when none is given", async () => {
    const r = await pdsim();
    expect(r.status).toBe(2);
    for (const command of ["run", "check", "explain", "serve", "bench"]) {
      expect(r.stderr).toContain(`pdsim ${command}`);
    }
  });
});
