import * as fs from "node:fs";
import * as path from "node:path";
import { refusedTrace } from "./refused-trace.ts";
import { afterAll, describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/index.ts";
import { workloadSource } from "../../src/workload/workload.ts";
import { RngStreams } from "../../sim/index.ts";
import { pdsim, removeDir, scratchDir } from "../e2e/cli.ts";
import { type MooncakeLine, writeMooncake } from "./mooncake-traces.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

/** Five requests at 0, 1, 2, 4 and 8 s of the trace's clock, which starts at 1000 s. */
const FIVE: MooncakeLine[] = [0, 1, 2, 4, 8].map((s, i) => ({
  timestamp: 1_000_000 + s * 1000,
  input_length: 600 + i,
  output_length: 3,
  hash_ids: [i, 100 + i],
}));
writeMooncake(path.join(dir, "five.jsonl"), FIVE);

function replay(options: string, file = "five.jsonl") {
  const scenario = parseScenario(
    [
      "instances: [{ name: u, role: unified }]",
      `workload: { trace: { format: mooncake, path: ${file}${options} } }`,
    ].join("\n"),
    path.join(dir, "scenario.yaml"),
  );
  const source = workloadSource(scenario.workload, new RngStreams(0));
  const requests = [];
  for (let r = source.next(); r !== null; r = source.next()) requests.push(r);
  expect(requests).toHaveLength(source.totalRequests);
  return requests.map((r) => ({
    id: r.id,
    at: r.arrivalTime / 1e6,
    n: r.prompt.length,
    max: r.maxTokens,
    first: r.prompt.tokenId(0),
  }));
}

describe("a trace's window and clock", () => {
  it("replays every request from time 0, with the trace's gaps and output lengths", () => {
    expect(replay("")).toEqual(
      FIVE.map((r, i) => ({
        id: `req-${i}`,
        at: [0, 1, 2, 4, 8][i],
        n: r.input_length,
        max: 3,
        first: expect.any(Number),
      })),
    );
  });

  it("takes a window on the trace's clock and starts it at time 0", () => {
    expect(replay(", start_s: 1, duration_s: 3").map((r) => [r.n, r.at])).toEqual([
      [601, 0],
      [602, 1],
    ]);
    expect(replay(", start_s: 1.5").map((r) => r.at)).toEqual([0.5, 2.5, 6.5]);
    expect(replay(", max_requests: 2").map((r) => r.n)).toEqual([600, 601]);
  });

  it("stretches the gaps by time_scale, or to a mean rate by rate_per_s", () => {
    expect(replay(", time_scale: 0.5").map((r) => r.at)).toEqual([0, 0.5, 1, 2, 4]);
    // Four gaps over 8 s is 0.5 requests/s; 2 requests/s makes the span 2 s.
    expect(replay(", rate_per_s: 2").map((r) => r.at)).toEqual([0, 0.25, 0.5, 1, 2]);
  });

  it("loops the window with the same prompts until max_requests, a mean gap after its last arrival", () => {
    const looped = replay(", max_requests: 12, loop: true");
    expect(looped.map((r) => r.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `req-${String(i).padStart(2, "0")}`),
    );
    // One pass: the last arrival at 8 s plus the mean gap of 2 s.
    expect(looped.map((r) => r.at)).toEqual([0, 1, 2, 4, 8, 10, 11, 12, 14, 18, 20, 21]);
    expect(looped.slice(5, 10).map((r) => r.first)).toEqual(looped.slice(0, 5).map((r) => r.first));
    expect(replay(", max_requests: 7, loop: true, duration_s: 3").map((r) => r.at)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
  });

  it("gives equal block ids equal tokens, and different ids different ones", () => {
    writeMooncake(path.join(dir, "shared.jsonl"), [
      { timestamp: 0, input_length: 1000, output_length: 1, hash_ids: [7, 8] },
      { timestamp: 0, input_length: 700, output_length: 1, hash_ids: [7, 9] },
    ]);
    const scenario = parseScenario(
      "instances: [{ name: u, role: unified }]\nworkload: { trace: { format: mooncake, path: shared.jsonl } }",
      path.join(dir, "s.yaml"),
    );
    const source = workloadSource(scenario.workload, new RngStreams(0));
    const a = source.next()!.prompt;
    const b = source.next()!.prompt;
    expect(Array.from({ length: 512 }, (_, i) => a.tokenId(i))).toEqual(
      Array.from({ length: 512 }, (_, i) => b.tokenId(i)),
    );
    expect(a.blockHashes(16).slice(0, 32)).toEqual(b.blockHashes(16).slice(0, 32));
    expect(a.blockHashes(16)[32]).not.toEqual(b.blockHashes(16)[32]);
  });
});

describe("a trace that cannot be replayed", () => {
  const refused = (lines: string | null, options = "", file = "bad.jsonl") =>
    refusedTrace(dir, "mooncake", lines, options, file);
  const good = JSON.stringify(FIVE[0]);

  it("names the file, line and field of a malformed line", async () => {
    expect(await refused(`${good}\n${good}\n{"timestamp": 3, "input_length": 10\n`)).toMatch(
      /^bad\.jsonl:3:1: expected one JSON object a line: /,
    );
    expect(await refused(`${good}\n[1, 2]\n`)).toBe(
      "bad.jsonl:2:1: expected a JSON object, got [1,2]\n",
    );
    expect(await refused(`${good}\n{"timestamp": 5, "output_length": 1, "hash_ids": [1]}\n`)).toBe(
      "bad.jsonl:2:1: input_length: expected a whole number of prompt tokens ≥ 1, got nothing (the field is missing)\n",
    );
    expect(
      await refused(
        `{"timestamp": "soon", "input_length": 1, "output_length": 1, "hash_ids": [1]}\n`,
      ),
    ).toBe(
      'bad.jsonl:1:1: timestamp: expected milliseconds from the trace\'s start (a number ≥ 0), got "soon"\n',
    );
    expect(
      await refused(`{"timestamp": 0, "input_length": 1, "output_length": 0, "hash_ids": [1]}\n`),
    ).toMatch(/^bad\.jsonl:1:1: output_length: expected a whole number of output tokens ≥ 1/);
    expect(
      await refused(`{"timestamp": 0, "input_length": 1, "output_length": 1, "hash_ids": [-1]}\n`),
    ).toBe("bad.jsonl:1:1: hash_ids: expected a list of whole numbers ≥ 0, got [-1]\n");
  });

  it("says when hash_ids do not match input_length", async () => {
    expect(
      await refused(
        `{"timestamp": 0, "input_length": 1025, "output_length": 1, "hash_ids": [1, 2]}\n`,
      ),
    ).toBe(
      "bad.jsonl:1:1: hash_ids: holds 2 ids, but input_length 1025 is 3 blocks of 512 tokens (the last possibly partial); set block_tokens if the trace uses another block size\n",
    );
  });

  it("refuses timestamps that go back, an empty trace, a missing file and a non-UTF-8 line", async () => {
    const later = JSON.stringify({ ...FIVE[0], timestamp: 2000 });
    expect(await refused(`${later}\n${good.replace("1000000", "1000")}\n`)).toBe(
      "bad.jsonl:2:1: timestamp: arrives at 1 s, before line 1 (2 s); expected the lines in arrival order: sort the trace by its timestamps\n",
    );
    expect(await refused("\n\n")).toMatch(/^pdsim: the trace 'bad\.jsonl' holds no requests\n$/);
    expect(await refused(null, "", "missing.jsonl")).toMatch(
      /^pdsim: cannot read trace 'missing\.jsonl' \(.*missing\.jsonl\): no such file or directory\n$/,
    );
    fs.mkdirSync(path.join(dir, "a-dir.jsonl"), { recursive: true });
    expect(await refused(null, "", "a-dir.jsonl")).toMatch(/: it is a directory\n$/);
    fs.writeFileSync(path.join(dir, "latin1.jsonl"), Buffer.from([0x7b, 0xe9, 0x7d, 0x0a]));
    expect(await refused(null, "", "latin1.jsonl")).toBe(
      "latin1.jsonl:1:1: the line holds a byte that is not UTF-8\n",
    );
  });

  it("refuses a window with no request, and re-timing it two ways at once", async () => {
    expect(await refused(`${good}\n`, ", start_s: 5")).toBe(
      "pdsim: no request of the trace 'bad.jsonl' arrives in the window from 5 s (its last arrives at 0 s)\n",
    );
    expect(await refused(`${good}\n`, ", time_scale: 2, rate_per_s: 1")).toMatch(
      /bad\.yaml:2:\d+: workload\.trace\.rate_per_s: time_scale and rate_per_s both re-time the trace/,
    );
    expect(await refused(`${good}\n`, ", loop: true")).toMatch(
      /workload\.trace\.loop: a looping trace needs max_requests/,
    );
    const slow = [good, JSON.stringify({ ...FIVE[1], timestamp: 1_080_000 })].join("\n");
    expect(await refused(slow, ", time_scale: 1000000")).toBe(
      "pdsim: the replay's requests arrive over 80000000 s of simulated time, which is 8000000 intervals of the shortest log or scrape interval (10 s); expected at most 1000000: raise the interval, or replay less of the trace (duration_s, max_requests) or faster (time_scale)\n",
    );
    expect(await refused(`${good}\n`, ", rate_per_s: 1")).toMatch(
      /rate_per_s needs arrivals spread over time, but the window holds one request/,
    );
  });
});

describe("pdsim trace stats", () => {
  it("gives the numbers of the shipped Mooncake slice (mooncake-cache-sizes.yaml pins its replay to the ideal ratio)", async () => {
    const file = "scenarios/traces/mooncake-conversation-first-1000.jsonl";
    const result = await pdsim("trace", "stats", file, "--json");
    expect(result.status).toBe(0);
    const stats = JSON.parse(result.stdout);
    expect(stats).toMatchObject({ requests: 1000, duration_s: 330, block_size: 16 });
    expect(stats.mean_input_tokens).toBeGreaterThan(stats.mean_output_tokens);
    const lines = fs
      .readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(stats.mean_input_tokens).toBeCloseTo(
      lines.reduce((s, l) => s + l.input_length, 0) / lines.length,
      9,
    );

    const text = await pdsim("trace", "stats", file, "--block-size", "32");
    expect(text.stdout).toMatch(
      /^scenarios\/traces\/mooncake-conversation-first-1000\.jsonl \(mooncake\): 1000 requests over 330\.000 s \(3\.03 requests\/s\)\n/,
    );
    expect(text.stdout).toMatch(/ideal prefix hit ratio at block size 32: \d+\.\d\d % /);
  });

  it("refuses a bad block size and a bad trace with exit 2", async () => {
    const bad = await pdsim("trace", "stats", "nope.jsonl");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^pdsim: cannot read trace 'nope\.jsonl'/);
    const size = await pdsim(
      "trace",
      "stats",
      "scenarios/traces/mooncake-conversation-first-1000.jsonl",
      "--block-size",
      "0",
    );
    expect(size).toMatchObject({
      status: 2,
      stderr: "pdsim: --block-size must be a positive integer, got 0\n",
    });
  });
});
