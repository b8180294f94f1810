// The `--out DIR` contract: metrics/<instance>.prom in Prometheus text format, requests.jsonl,
// summary.json; a directory that is not a previous run is never overwritten, and nothing
// half-written is ever left behind.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  expectBadInput,
  fixture,
  listFiles,
  pdsim,
  readJsonLines,
  removeDir,
  scratchDir,
  snapshot,
  writeScenario,
} from "./cli.ts";

const SCENARIO = fixture("two-instances.yaml");
const INSTANCES = ["unified-0", "unified-1"];
const NUM_REQUESTS = 60;

/** `name{labels} value [timestamp]`, label values escaped as the text format 0.0.4 says. */
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const VALUE = String.raw`[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN`;
const SAMPLE_LINE = new RegExp(
  String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?:${LABEL}(?:,${LABEL})*,?)?\})? (?:${VALUE})(?: -?[0-9]+)?$`,
);
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"];

interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  /** Sample name → the family whose TYPE line declared it. */
  sampleFamilies: Map<string, string>;
  unparsed: string[];
}

function parseExposition(text: string): Exposition {
  const exposition: Exposition = {
    help: new Map(),
    type: new Map(),
    sampleFamilies: new Map(),
    unparsed: [],
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === "HELP") exposition.help.set(name, rest);
      else if (TYPES.includes(rest)) exposition.type.set(name, rest);
      else exposition.unparsed.push(line);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (sample === null) {
      exposition.unparsed.push(line);
      continue;
    }
    const name = sample[1]!;
    const family = familyOf(name, exposition.type);
    if (family === undefined) exposition.unparsed.push(`${line}   <- no TYPE line before it`);
    else exposition.sampleFamilies.set(name, family);
  }
  return exposition;
}

/** The declared family of a sample: itself, or the histogram or summary it is a part of. */
function familyOf(sampleName: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(sampleName)) return sampleName;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return undefined;
}

/** The value of the one sample line that starts with `prefix`. */
function sampleValue(text: string, prefix: string): number {
  const lines = text.split("\n").filter((line) => line.startsWith(prefix));
  expect(lines).toHaveLength(1);
  return Number(lines[0]!.slice(lines[0]!.lastIndexOf(" ") + 1));
}

let parent = "";
let out = "";
let run: CliResult;

beforeAll(async () => {
  parent = scratchDir();
  out = path.join(parent, "run");
  run = await pdsim("run", SCENARIO, "--quiet", "--out", out);
});
afterAll(() => removeDir(parent));

describe("pdsim run --out", () => {
  it("writes metrics/<instance>.prom for each instance, metrics.om, report.html, requests.jsonl, summary.json and trace.json, and nothing else", () => {
    expect(run.status).toBe(0);
    expect(fs.readdirSync(parent)).toEqual(["run"]);
    expect(listFiles(out)).toEqual([
      "metrics.om",
      ...INSTANCES.map((name) => `metrics/${name}.prom`),
      "report.html",
      "requests.jsonl",
      "summary.json",
      "trace.json",
    ]);
  });

  it("writes each instance's metrics in Prometheus text format", () => {
    for (const instance of INSTANCES) {
      const text = fs.readFileSync(path.join(out, "metrics", `${instance}.prom`), "utf8");
      const exposition = parseExposition(text);
      expect(exposition.unparsed).toEqual([]);
      expect(exposition.sampleFamilies.size).toBeGreaterThan(10);
      for (const [name, type] of [
        ["vllm:prompt_tokens_total", "counter"],
        ["vllm:request_success_total", "counter"],
        ["vllm:time_to_first_token_seconds", "histogram"],
      ] as const) {
        expect(exposition.help.get(name), `HELP ${name}`).toMatch(/\S/);
        expect(exposition.type.get(name), `TYPE ${name}`).toBe(type);
      }
      // Each instance reports its own share of the work.
      const labels = `{model_name="Qwen/Qwen3-0.6B",engine="0"}`;
      const ttftCount = sampleValue(text, `vllm:time_to_first_token_seconds_count${labels} `);
      const infBucket = sampleValue(
        text,
        `vllm:time_to_first_token_seconds_bucket{model_name="Qwen/Qwen3-0.6B",engine="0",le="+Inf"} `,
      );
      expect(infBucket).toBe(ttftCount);
      expect(ttftCount).toBeGreaterThan(0);
      expect(ttftCount).toBeLessThan(NUM_REQUESTS);
    }
  });

  it("writes requests.jsonl with one JSON line per request, each with its id", () => {
    const records = readJsonLines(path.join(out, "requests.jsonl"));
    expect(records).toHaveLength(NUM_REQUESTS);
    const ids = records.map((r) => r.id);
    expect(new Set(ids).size).toBe(NUM_REQUESTS);
    expect([...ids].sort()).toEqual(
      Array.from({ length: NUM_REQUESTS }, (_, i) => `req-${String(i).padStart(2, "0")}`),
    );
    for (const record of records) {
      expect(record).toMatchObject({
        finish_reason: expect.stringMatching(/^(stop|length|abort|error)$/),
        arrival_s: expect.any(Number),
        finish_s: expect.any(Number),
        legs: [expect.objectContaining({ instance: expect.stringMatching(/^unified-[01]$/) })],
      });
    }
  });

  it("writes a summary.json whose request counts match requests.jsonl", () => {
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as {
      seed: number;
      requests: { arrived: number; finished: number; by_finish_reason: Record<string, number> };
      instances: { name: string; requests_finished: Record<string, number> }[];
    };
    const records = readJsonLines(path.join(out, "requests.jsonl"));
    const byReason: Record<string, number> = { stop: 0, length: 0, abort: 0, error: 0 };
    for (const r of records) byReason[r.finish_reason as string]! += 1;
    expect(summary.seed).toBe(7);
    expect(summary.requests).toEqual({
      arrived: records.length,
      finished: records.length,
      by_finish_reason: byReason,
    });
    expect(summary.instances.map((i) => i.name)).toEqual(INSTANCES);
    for (const instance of summary.instances) {
      const ran = records.filter(
        (r) => (r.legs as { instance: string }[])[0]!.instance === instance.name,
      );
      const finished = Object.values(instance.requests_finished).reduce((a, b) => a + b, 0);
      expect({ instance: instance.name, finished }).toEqual({
        instance: instance.name,
        finished: ran.length,
      });
    }
  });

  it("refuses an existing non-empty directory that is not a previous run, with exit 2, and leaves it untouched", async () => {
    const dir = scratchDir();
    try {
      const target = path.join(dir, "mine");
      fs.mkdirSync(path.join(target, "metrics"), { recursive: true });
      fs.writeFileSync(path.join(target, "notes.txt"), "precious\n");
      fs.writeFileSync(path.join(target, "metrics", "x.prom"), "x 1\n");
      const before = snapshot(target);
      expectBadInput(await pdsim("run", SCENARIO, "--quiet", "--out", target), target, "not empty");
      expect(snapshot(target)).toEqual(before);
      expect(fs.readdirSync(dir)).toEqual(["mine"]);
    } finally {
      removeDir(dir);
    }
  });

  it("replaces a previous run's directory whole, leaving none of its files", async () => {
    const dir = scratchDir();
    try {
      const target = path.join(dir, "previous");
      fs.cpSync(out, target, { recursive: true });
      fs.writeFileSync(path.join(target, "metrics", "unified-9.prom"), "# from an older run\n");
      fs.writeFileSync(path.join(target, "requests.jsonl"), '{"id":"stale"}\n');
      const result = await pdsim("run", SCENARIO, "--quiet", "--out", target);
      expect(result.status).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(["previous"]);
      expect(listFiles(target)).toEqual(listFiles(out));
      expect(fs.readFileSync(path.join(target, "requests.jsonl"), "utf8")).toBe(
        fs.readFileSync(path.join(out, "requests.jsonl"), "utf8"),
      );
    } finally {
      removeDir(dir);
    }
  });

  it("leaves a previous run untouched and no staging directory behind after bad input", async () => {
    const dir = scratchDir();
    try {
      const target = path.join(dir, "previous");
      fs.cpSync(out, target, { recursive: true });
      const before = snapshot(target);
      const bad = writeScenario(dir, "bad.yaml", [
        "instances:",
        "  - { name: unified-0, role: unified }",
        "workload:",
        "  requests:",
        "    - { id: r1, at_s: 0, prompt_tokens: 40, max_tokens: 4 }",
        "expect:",
        '  - { instance: unified-0, metric: "vllm:no_such_metric", equals: 1 }',
      ]);
      expectBadInput(await pdsim("run", bad, "--out", target), `${bad}:7:`, "vllm:no_such_metric");
      expect(snapshot(target)).toEqual(before);
      expect(fs.readdirSync(dir).sort()).toEqual(["bad.yaml", "previous"]);
    } finally {
      removeDir(dir);
    }
  });

  it("refuses an --out whose parent is a file, with exit 2 and no stack trace", async () => {
    const dir = scratchDir();
    try {
      const file = path.join(dir, "a-file");
      fs.writeFileSync(file, "not a directory\n");
      expectBadInput(
        await pdsim("run", SCENARIO, "--quiet", "--out", path.join(file, "run")),
        path.join(file, "run"),
      );
      expect(fs.readdirSync(dir)).toEqual(["a-file"]);
    } finally {
      removeDir(dir);
    }
  });

  it.each(["/proc/pdsim-out", "/proc/pdsim-a/b/c"])(
    "refuses --out %s, where no directory can be made, at once with exit 2",
    async (target) => {
      expectBadInput(
        await pdsim("run", SCENARIO, "--quiet", "--out", target),
        `--out ${target}: cannot write there: ENOENT`,
      );
    },
    10_000,
  );

  it("refuses an empty --out, with exit 2 and no stack trace", async () => {
    expectBadInput(await pdsim("run", SCENARIO, "--quiet", "--out", ""), "--out");
  });
});
