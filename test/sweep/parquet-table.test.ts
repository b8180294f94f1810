import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ResultsStore } from "../../src/sweep/results-store.ts";
import type { RunResult } from "../../src/sweep/run-one.ts";
import type { Sweep } from "../../src/sweep/sweep-file.ts";
import { expectParquetEqualsCsv, readParquet } from "../support/duckdb.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-parquet-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const spec = (index: number, variant: Record<string, unknown>, seed: number) => ({
  index,
  key: `key-${index}`,
  variant,
  seed,
  scenario: {},
  scenarioFile: "base.yaml",
});

/** Every kind of varied value, and an ok, a failed and a not-run run. */
const sweep: Sweep = {
  file: "kinds.yaml",
  name: "kinds",
  description: "",
  scenarioFile: "base.yaml",
  keys: ["ints", "mixed", "object", "doubles"],
  seeds: [0, 1],
  collect: {
    summary: ["requests.finished"],
    metrics: [],
    latency: ["ttft_p99"],
    truth_vs_reported: false,
  },
  runs: [
    spec(0, { ints: 1, mixed: "x", object: { n: 1 }, doubles: 0.5 }, 0),
    spec(1, { ints: 2, mixed: 3, object: [1, 2], doubles: 2 }, 1),
    spec(2, { ints: 3, mixed: true, object: null, doubles: 1e-7 }, 0),
  ],
  variants: [],
  runsOf: () => [],
};

const results = new Map<string, RunResult>([
  [
    "key-0",
    {
      key: "key-0",
      index: 0,
      status: "ok",
      wall_s: 0.25,
      values: { "requests.finished": 10, ttft_p99: 1.125 },
    },
  ],
  ["key-1", { key: "key-1", index: 1, status: "failed", error: "boom", wall_s: 0.5, values: {} }],
]);

const write = (out: string) =>
  new ResultsStore(out).writeTables(sweep, results, {
    version: "test",
    started: "2026-01-01T00:00:00.000Z",
    ended: "2026-01-01T00:00:01.000Z",
    workers: 1,
  });

describe("runs.parquet", () => {
  const out = path.join(dir, "kinds");
  write(out);

  it("types each column: integers as BIGINT, numbers as DOUBLE, anything else as text", async () => {
    const { columns } = await readParquet(path.join(out, "runs.parquet"));
    expect(columns.map((c) => `${c.name} ${c.type}${c.optional ? "" : " NOT NULL"}`)).toEqual([
      "index BIGINT NOT NULL",
      "key VARCHAR NOT NULL",
      "status VARCHAR NOT NULL",
      "ints BIGINT NOT NULL",
      "mixed VARCHAR NOT NULL",
      "object VARCHAR",
      "doubles DOUBLE NOT NULL",
      "seed BIGINT NOT NULL",
      "wall_s DOUBLE",
      "requests.finished BIGINT",
      "ttft_p99 DOUBLE",
      "error VARCHAR",
    ]);
  });

  it("holds what runs.csv holds, value for value, as DuckDB reads it", async () => {
    await expectParquetEqualsCsv(path.join(out, "runs.parquet"), path.join(out, "runs.csv"));
    const { rows } = await readParquet(path.join(out, "runs.parquet"));
    // A failed run and a run not yet run have no collected values: nulls, not zeros.
    expect(rows.map((r) => r.slice(-3))).toEqual([
      [10n, 1.125, null],
      [null, null, "boom"],
      [null, null, null],
    ]);
    expect(rows.map((r) => r[4])).toEqual(["x", "3", "true"]);
    expect(rows.map((r) => r[5])).toEqual(['{"n":1}', "[1,2]", null]);
  });

  it("is the same bytes for the same results", () => {
    const again = path.join(dir, "again");
    write(again);
    expect(fs.readFileSync(path.join(again, "runs.parquet"))).toEqual(
      fs.readFileSync(path.join(out, "runs.parquet")),
    );
  });
});
