// The same scenario and seed give byte-identical outputs; another seed gives another run.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, fixture, listFiles, pdsim, removeDir, scratchDir } from "./cli.ts";

const SCENARIO = fixture("two-instances.yaml"); // seed: 7

/** summary.json's `wall_seconds` is the one field documented to differ between runs. */
const WALL_SECONDS = /^ {2}"wall_seconds": [0-9.e+-]+,$/m;

function read(dir: string, file: string): string {
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  if (file !== "summary.json") return text;
  expect(text).toMatch(WALL_SECONDS);
  return text.replace(WALL_SECONDS, '  "wall_seconds": "(differs)",');
}

interface Run {
  dir: string;
  result: CliResult;
}

let parent = "";
let first: Run;
let again: Run;
let otherSeed: Run;

async function runInto(name: string, ...extra: string[]): Promise<Run> {
  const dir = path.join(parent, name);
  return { dir, result: await pdsim("run", SCENARIO, "--out", dir, ...extra) };
}

beforeAll(async () => {
  parent = scratchDir();
  first = await runInto("first");
  again = await runInto("again", "--seed", "7"); // the scenario's own seed, given on the command line
  otherSeed = await runInto("other-seed", "--seed", "8");
});
afterAll(() => removeDir(parent));

describe("determinism", () => {
  it("the same scenario and seed give byte-identical --out files and stdout", () => {
    expect([first.result.status, again.result.status]).toEqual([0, 0]);
    const files = listFiles(first.dir);
    expect(files).toEqual([
      "metrics.om",
      "metrics/unified-0.prom",
      "metrics/unified-1.prom",
      "report.html",
      "requests.jsonl",
      "summary.json",
      "trace.json",
    ]);
    expect(listFiles(again.dir)).toEqual(files);
    for (const file of files) {
      expect(read(again.dir, file), file).toBe(read(first.dir, file));
    }
    expect(again.result.stdout).toBe(first.result.stdout);
    expect(first.result.stdout).toMatch(/^\[t=1\.000s unified-0\] /);
  });

  it("a different --seed gives a different requests.jsonl and stdout", () => {
    expect(otherSeed.result.status).toBe(0);
    expect(read(otherSeed.dir, "requests.jsonl")).not.toBe(read(first.dir, "requests.jsonl"));
    expect(otherSeed.result.stdout).not.toBe(first.result.stdout);
    expect(otherSeed.result.stdout).toContain("two-instances: seed 8,");
    expect(first.result.stdout).toContain("two-instances: seed 7,");
  });
});

describe("the run's figures", () => {
  it("are the same in --json and in --out's summary.json, whose scrapes are not events", async () => {
    const json = JSON.parse((await pdsim("run", SCENARIO, "--json")).stdout) as {
      events: number;
    };
    const summary = JSON.parse(read(first.dir, "summary.json")) as { events: number };
    expect(summary.events).toBe(json.events);
  });
});

describe("metrics.om", () => {
  it("scrapes at every interval while there is work and last at the time the work ended", async () => {
    const dir = scratchDir();
    try {
      const out = path.join(dir, "pd-mixed");
      expect((await pdsim("run", "scenarios/pd-mixed.yaml", "--quiet", "--out", out)).status).toBe(
        0,
      );
      const stamps = [
        ...new Set(
          fs
            .readFileSync(path.join(out, "metrics.om"), "utf8")
            .split("\n")
            .filter((line) => line.startsWith("vllm:num_requests_running{"))
            .map(
              (line) => Number(line.split(" ").at(-1)) - Date.parse("2026-01-01T00:00:00Z") / 1000,
            ),
        ),
      ];
      const simulated = (
        JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as {
          simulated_seconds: number;
        }
      ).simulated_seconds;
      // pd-mixed scrapes every 2 s; its last request finishes at 22.233 s.
      expect(stamps.slice(0, -1)).toEqual(Array.from({ length: 12 }, (_, i) => 2 * i));
      expect(stamps.at(-1)).toBeCloseTo(Math.floor(simulated * 1000) / 1000, 6);
    } finally {
      removeDir(dir);
    }
  });
});

describe("a replayed trace and closed-loop sessions", () => {
  it.each(["closed-loop-bench", "chat-sessions"])(
    "%s writes the same files twice",
    async (name) => {
      const dir = scratchDir();
      try {
        const scenario = `scenarios/${name}.yaml`;
        const a = await pdsim("run", scenario, "--out", path.join(dir, "a"), "--quiet");
        const b = await pdsim("run", scenario, "--out", path.join(dir, "b"), "--quiet");
        expect([a.status, b.status]).toEqual([0, 0]);
        const files = listFiles(path.join(dir, "a"));
        expect(listFiles(path.join(dir, "b"))).toEqual(files);
        expect(files).toContain("requests.jsonl");
        for (const file of files) {
          expect(read(path.join(dir, "b"), file), file).toBe(read(path.join(dir, "a"), file));
        }
      } finally {
        removeDir(dir);
      }
    },
  );
});
