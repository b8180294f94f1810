import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { parseScenario } from "../../src/scenario/index.ts";
import { parseDateTime, splitCsvLine } from "../../src/workload/trace/csv.ts";
import { workloadSource } from "../../src/workload/workload.ts";
import { RngStreams } from "../../sim/index.ts";
import { pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

const AZURE_SLICE = path.resolve("scenarios/traces/azure-conv-2023-first-200.csv");

function scenarioOf(trace: string) {
  return parseScenario(
    ["instances: [{ name: u, role: unified }]", `workload: { trace: ${trace} }`].join("\n"),
    path.join(dir, "scenario.yaml"),
  );
}

function replay(trace: string) {
  const source = workloadSource(scenarioOf(trace).workload, new RngStreams(0));
  const out = [];
  for (let r = source.next(); r !== null; r = source.next()) out.push(r);
  return out;
}

describe("CSV traces", () => {
  it("read the Azure traces' columns and date-times by default", () => {
    const requests = replay(`{ format: csv, path: ${AZURE_SLICE} }`);
    const rows = fs
      .readFileSync(AZURE_SLICE, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    expect(requests).toHaveLength(200);
    expect(requests.map((r) => [r.prompt.length, r.maxTokens])).toEqual(
      rows.map((r) => [Number(r[1]), Number(r[2])]),
    );
    // 2023-11-16 18:15:46.6805900 is the origin; the second row is 4.3145790 s later.
    expect(rows[1]![0]).toBe("2023-11-16 18:15:50.9951690");
    expect(requests[1]!.arrivalTime).toBe(4_314_579);
  });

  it("parse date-times with any number of fractional digits and an optional offset", () => {
    const base = Date.UTC(2023, 10, 16, 18, 15, 46) / 1000;
    expect(parseDateTime("2023-11-16 18:15:46")).toBe(base);
    expect(parseDateTime("2023-11-16T18:15:46.5Z")).toBe(base + 0.5);
    expect(parseDateTime("2023-11-16T20:15:46+02:00")).toBe(base);
    expect(parseDateTime("2023-11-16 12:45:46-0530")).toBe(base);
    expect(parseDateTime("2023-02-30 00:00:00")).toBeNull();
    expect(parseDateTime("16/11/2023 18:15")).toBeNull();
  });

  it("split quoted fields as RFC 4180 writes them", () => {
    expect(splitCsvLine('a,"b,c","say ""hi""",')).toEqual(["a", "b,c", 'say "hi"', ""]);
    expect(splitCsvLine('"open')).toBeNull();
  });

  it("take other column names and numeric times in a unit, and share named prefixes", () => {
    fs.writeFileSync(
      path.join(dir, "vidur.csv"),
      [
        "arrived_at,num_prefill_tokens,num_decode_tokens,system,system_tokens",
        "0.5,100,3,,",
        '1.5,300,4,"sys-a",256',
        "2.5,280,5,sys-a,256",
        "3.5,40,6,sys-b,32",
      ].join("\n") + "\n",
    );
    const trace =
      "{ format: csv, path: vidur.csv, time_unit: s, columns: { time: arrived_at, prompt_tokens: num_prefill_tokens, output_tokens: num_decode_tokens, prefix: system, prefix_tokens: system_tokens } }";
    const requests = replay(trace);
    expect(requests.map((r) => [r.arrivalTime, r.prompt.length, r.maxTokens])).toEqual([
      [0, 100, 3],
      [1_000_000, 300, 4],
      [2_000_000, 280, 5],
      [3_000_000, 40, 6],
    ]);
    const [, a, b] = requests;
    expect(a!.prompt.blockHashes(16).slice(0, 16)).toEqual(b!.prompt.blockHashes(16).slice(0, 16));
    expect(a!.prompt.blockHashes(16)[16]).not.toEqual(b!.prompt.blockHashes(16)[16]);

    // On one instance the second sys-a prompt hits its 256 shared tokens, as trace stats says.
    const records: RequestRecord[] = [];
    new Cluster(scenarioOf(trace), 0, { onRequestFinished: (r) => records.push(r) }).run();
    const hits = records.map((r) => [r.prompt_tokens, r.legs[0]!.num_cached_tokens]);
    expect(hits).toEqual([
      [100, 0],
      [300, 0],
      [280, 256],
      [40, 0],
    ]);
  });

  it("have stats with the ideal hit of their named prefixes", async () => {
    const result = await pdsim(
      "trace",
      "stats",
      path.join(dir, "vidur.csv"),
      "--format",
      "csv",
      "--time-unit",
      "ms",
      "--column",
      "time=arrived_at",
      "--column",
      "prompt_tokens=num_prefill_tokens",
      "--column",
      "output_tokens=num_decode_tokens",
      "--column",
      "prefix=system",
      "--column",
      "prefix_tokens=system_tokens",
      "--json",
    );
    expect(result.stderr).toBe("");
    const stats = JSON.parse(result.stdout);
    expect(stats).toMatchObject({ requests: 4, duration_s: 0.003, total_input_tokens: 720 });
    expect(stats.ideal_prefix_hit_ratio).toBeCloseTo(256 / 720, 12);
  });
});

describe("a CSV trace that cannot be replayed", () => {
  async function refused(text: string, options = "") {
    fs.writeFileSync(path.join(dir, "bad.csv"), text);
    const scenario = writeScenario(dir, "bad.yaml", [
      "instances: [{ name: u, role: unified }]",
      `workload: { trace: { format: csv, path: bad.csv${options} } }`,
    ]);
    const result = await pdsim("run", scenario);
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return result.stderr.replaceAll(dir + "/", "");
  }

  it("names the column a row gets wrong", async () => {
    const header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    expect(await refused(`${header}2023-11-16 18:15:46,12,x\n`)).toBe(
      "bad.csv:2:1: GeneratedTokens: expected a whole number of output tokens ≥ 1 (vLLM generates at least one), got 'x'\n",
    );
    expect(await refused(`${header}yesterday,12,3\n`)).toBe(
      "bad.csv:2:1: TIMESTAMP: expected a date and time such as 2023-11-16 18:15:46.68 (UTC unless it carries an offset) or a number of seconds, got 'yesterday'\n",
    );
    expect(await refused(`${header}1,12\n`)).toBe(
      "bad.csv:2:1: expected at least 3 fields as the header names, got 2\n",
    );
    expect(await refused(`${header}1,"12,3\n`)).toBe(
      "bad.csv:2:1: a quoted field is not closed on its line\n",
    );
    expect(await refused("time,prompt,output\n1,2,3\n")).toBe(
      "bad.csv:1:1: the header has no column 'TIMESTAMP' (columns.time); it has 'time', 'prompt', 'output'\n",
    );
    expect(await refused(header)).toBe("pdsim: the trace 'bad.csv' holds no requests\n");
  });

  it("refuses the keys of another format", async () => {
    expect(
      await refused("TIMESTAMP,ContextTokens,GeneratedTokens\n", ", block_tokens: 64"),
    ).toMatch(
      /workload\.trace\.block_tokens: block_tokens is for format mooncake \(its hash ids each stand for a block of block_tokens tokens; other formats have no hash ids\): remove it\n$/,
    );
    expect(await refused("", ", columns: { prefix: p }")).toMatch(
      /workload\.trace\.columns\.prefix_tokens: prefix and prefix_tokens name their columns together/,
    );
  });
});
