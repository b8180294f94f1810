// `pdsim` as a real process, as a user's shell runs it: the few things the in-process tests
// cannot show — bin.js starting the TypeScript CLI, the exit status Node reports, and which of
// stdout and stderr each kind of text reaches. Everything else runs `main` in-process.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../src/cli/main.ts";
import { REPO, expectBadInput, pdsimProcess, removeDir, scratchDir, writeScenario } from "./cli.ts";

let dir = "";
beforeAll(() => {
  dir = scratchDir();
});
afterAll(() => removeDir(dir));

const TINY = [
  "name: tiny",
  "instances:",
  "  - { name: unified-0, role: unified }",
  "workload:",
  "  requests:",
  "    - { id: r1, at_s: 0, prompt_tokens: 40, max_tokens: 4 }",
];

describe("pdsim as a process", () => {
  it("exits 0 with the summary on stdout and the timing line on stderr", () => {
    const file = writeScenario(dir, "tiny.yaml", TINY);
    const r = pdsimProcess("run", file, "--quiet");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "tiny: seed 0, profile vllm-pr37460; 1 requests arrived, 1 finished",
    );
    expect(r.stdout).not.toContain("peak RSS");
    expect(r.stderr).toMatch(/^pdsim: simulated [0-9.]+ s in [0-9.]+ s wall, peak RSS \d+ MB\n$/);
  });

  it("exits 1 when an expectation fails", () => {
    const file = writeScenario(dir, "failing.yaml", [
      ...TINY,
      "expect:",
      '  - { instance: unified-0, metric: "vllm:request_success_total", equals: 2 }',
    ]);
    const r = pdsimProcess("run", file, "--quiet");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("expectations: 0 passed, 1 failed");
  });

  it("exits 2 on bad input with one message on stderr, nothing on stdout and no stack trace", () => {
    const file = writeScenario(dir, "bad.yaml", [...TINY, "engine: { block_size: 0 }"]);
    expectBadInput(pdsimProcess("run", file), `${file}:7:`, "engine.block_size");
  });

  it("exits 2 on an unknown option", () => {
    const r = pdsimProcess("run", "scenarios/pd-basic.yaml", "--sede", "4");
    expectBadInput(r, "Unknown argument: sede");
  });

  it("prints its version", () => {
    const r = pdsimProcess("--version");
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: `${VERSION}\n` });
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "stops a --out run on %s with exit %i, leaving neither the directory nor its staging copy",
    async (signal, status) => {
      const out = path.join(dir, `interrupted-${signal}`);
      const child = spawn(
        process.execPath,
        ["src/cli/bin.js", "run", "scenarios/bench/bench-small.yaml", "--quiet", "--out", out],
        { cwd: REPO },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      // The staging directory exists from just before the simulation starts.
      const staging = path.join(dir, `.interrupted-${signal}.partial-${child.pid}`);
      while (!fs.existsSync(staging)) await new Promise((r) => setTimeout(r, 10));
      child.kill(signal);
      expect(await exited).toBe(status);
      expect(stderr).toBe(`pdsim: interrupted by ${signal}; nothing was written to --out ${out}\n`);
      expect(fs.existsSync(staging)).toBe(false);
      expect(fs.existsSync(out)).toBe(false);
    },
    30_000,
  );
});
