// `pdsim bench`: the reference scenarios in scenarios/bench/, each run in a fresh process four
// ways (every stat logger off; as `pdsim run` does it; with `--profile all`; with `--out`), so
// that what the loggers, the extra profiles and the output files cost shows as a ratio measured
// in the same session. `--config` picks some of the four, to repeat one that matters (bench-large
// with `--out` takes minutes a run).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError, exitForBadInput } from "./bad-input.ts";
import type { BenchRunFigures } from "./bench-run.ts";
import type { CliIo } from "./io.ts";

const BIN = path.resolve(import.meta.dirname, "bin.js");
const BENCH_DIR = path.resolve(import.meta.dirname, "../../scenarios/bench");
export const BENCH_SCENARIOS = [
  "bench-small",
  "bench-medium",
  "bench-large",
  "bench-mooncake",
] as const;

export type BenchConfig = "stat loggers off" | "stat loggers on" | "--profile all" | "--out";

/** `--config`'s names for the configurations, in the order they run. */
export const BENCH_CONFIGS = {
  off: "stat loggers off",
  on: "stat loggers on",
  all: "--profile all",
  out: "--out",
} as const satisfies Record<string, BenchConfig>;
export type BenchConfigName = keyof typeof BENCH_CONFIGS;

/** The `pdsim` arguments of each configuration; `out` is a fresh directory for `--out`. */
function configArgs(config: BenchConfig, file: string, out: string): string[] {
  const run = ["run", file, "--quiet", "--json"];
  switch (config) {
    case "stat loggers off":
      return ["bench-run", file];
    case "stat loggers on":
      return run;
    case "--profile all":
      return [...run, "--profile", "all"];
    case "--out":
      return [...run, "--out", out];
  }
}

/** One run of one configuration, as `measure` times it. */
interface BenchRun {
  scenario: string;
  config: BenchConfig;
  /** The whole process, from spawn to exit: start-up and writing --out included. */
  process_wall_seconds: number;
  /** The simulation alone, as the run measured it. */
  run_wall_seconds: number;
  simulated_seconds: number;
  requests: number;
  engine_steps: number;
  events: number;
  requests_per_second: number;
  steps_per_second: number;
  events_per_second: number;
  peak_rss_mb: number;
}

/**
 * A configuration's fastest of `--repeat` runs, with the figures that compare it to its other runs
 * and to the other configurations.
 */
export interface BenchRow extends BenchRun {
  /**
   * The slowest of the `--repeat` runs (the same run without `--repeat`): how far apart the
   * runs were, so that a ratio that noise alone could move is seen as such.
   */
  slowest_run_wall_seconds: number;
  /** run_wall_seconds over the same scenario's "stat loggers off" run; null when that was not run. */
  cost_vs_off: number | null;
}

export interface BenchOptions {
  quick: boolean;
  scenarios?: string[] | undefined;
  /** Only these configurations (all four by default). */
  configs?: BenchConfigName[] | undefined;
  json: boolean;
  markdown?: string | undefined;
  /** Runs of each configuration; the fastest is reported, as machine noise only ever adds time. */
  repeat: number;
}

export function benchCommand(io: CliIo, opts: BenchOptions): number {
  try {
    const names = opts.scenarios ?? (opts.quick ? ["bench-small"] : [...BENCH_SCENARIOS]);
    if (!Number.isInteger(opts.repeat) || opts.repeat < 1) {
      throw new UsageError(
        `--repeat must be a whole number of runs, at least 1, got ${opts.repeat}`,
      );
    }
    for (const name of names) {
      if (!fs.existsSync(path.join(BENCH_DIR, `${name}.yaml`))) {
        throw new UsageError(
          `no benchmark scenario '${name}' in scenarios/bench/ (${BENCH_SCENARIOS.join(", ")})`,
        );
      }
    }
    const selected = new Set(opts.configs ?? Object.keys(BENCH_CONFIGS));
    const configs = Object.entries(BENCH_CONFIGS)
      .filter(([short]) => selected.has(short))
      .map(([, config]) => config);
    const rows: BenchRow[] = [];
    for (const name of names) {
      const fastest = new Map<BenchConfig, BenchRun>();
      const slowest = new Map<BenchConfig, number>();
      // Round by round, each configuration once a round: noise that comes and goes for minutes
      // on this kind of machine then slows every configuration alike, not one's block of runs.
      for (let run = 1; run <= opts.repeat; run++) {
        for (const config of configs) {
          if (!opts.json) {
            const of = opts.repeat > 1 ? ` (run ${run} of ${opts.repeat})` : "";
            io.stderr.write(`pdsim bench: ${name}, ${config}${of} … `);
          }
          let row: BenchRun;
          try {
            row = measure(name, config);
          } catch (err) {
            if (!opts.json) io.stderr.write("failed\n");
            throw err;
          }
          // Every run's time, not only the fastest: on a noisy machine the spread is news too.
          if (!opts.json) io.stderr.write(`${row.run_wall_seconds.toFixed(2)} s\n`);
          const best = fastest.get(config);
          if (best === undefined || row.run_wall_seconds < best.run_wall_seconds) {
            fastest.set(config, row);
          }
          slowest.set(config, Math.max(slowest.get(config) ?? 0, row.run_wall_seconds));
        }
      }
      const off = fastest.get("stat loggers off")?.run_wall_seconds ?? null;
      for (const config of configs) {
        const row = fastest.get(config)!;
        rows.push({
          ...row,
          slowest_run_wall_seconds: slowest.get(config)!,
          cost_vs_off: off === null ? null : row.run_wall_seconds / off,
        });
      }
    }
    if (opts.json) io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    else io.stdout.write(renderTable(rows) + "\n");
    if (opts.markdown !== undefined) fs.writeFileSync(opts.markdown, renderMarkdown(rows));
    return 0;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}

/** One run of one configuration. */
function measure(name: string, config: BenchConfig): BenchRun {
  const file = path.join(BENCH_DIR, `${name}.yaml`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-bench-"));
  const args = configArgs(config, file, path.join(out, "run"));
  const started = performance.now();
  const child = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const processWall = (performance.now() - started) / 1000;
  fs.rmSync(out, { recursive: true, force: true });
  if (child.status !== 0) {
    throw new Error(`pdsim ${args.join(" ")} exited ${child.status}: ${child.stderr}`);
  }
  const figures =
    config === "stat loggers off"
      ? (JSON.parse(child.stdout) as BenchRunFigures)
      : fromSummary(child.stdout, child.stderr);
  return {
    scenario: name,
    config,
    process_wall_seconds: processWall,
    run_wall_seconds: figures.wall_seconds,
    simulated_seconds: figures.simulated_seconds,
    requests: figures.requests,
    engine_steps: figures.engine_steps,
    events: figures.events,
    requests_per_second: figures.requests / figures.wall_seconds,
    steps_per_second: figures.engine_steps / figures.wall_seconds,
    events_per_second: figures.events / figures.wall_seconds,
    peak_rss_mb: figures.peak_rss_mb,
  };
}

/** The figures of `pdsim run --json`'s summary and its closing stderr line. */
function fromSummary(stdout: string, stderr: string): BenchRunFigures {
  const summary = JSON.parse(stdout) as {
    wall_seconds: number;
    simulated_seconds: number;
    events: number;
    requests: { finished: number };
    instances: { engine_steps: number }[];
  };
  const rss = /peak RSS (\d+) MB/.exec(stderr);
  if (rss === null) throw new Error(`pdsim run printed no peak RSS: ${stderr}`);
  return {
    wall_seconds: summary.wall_seconds,
    simulated_seconds: summary.simulated_seconds,
    events: summary.events,
    engine_steps: summary.instances.reduce((sum, i) => sum + i.engine_steps, 0),
    requests: summary.requests.finished,
    peak_rss_mb: Number(rss[1]),
  };
}

const HEADER = [
  "scenario",
  "config",
  "process s",
  "run s",
  "slowest s",
  "simulated s",
  "requests/s",
  "steps/s",
  "events/s",
  "peak RSS MB",
  "× off",
];

function cells(r: BenchRow): string[] {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return [
    r.scenario,
    r.config,
    r.process_wall_seconds.toFixed(2),
    r.run_wall_seconds.toFixed(2),
    r.slowest_run_wall_seconds.toFixed(2),
    r.simulated_seconds.toFixed(0),
    n(r.requests_per_second),
    n(r.steps_per_second),
    n(r.events_per_second),
    String(r.peak_rss_mb),
    r.cost_vs_off === null ? "—" : r.cost_vs_off.toFixed(2),
  ];
}

function renderTable(rows: readonly BenchRow[]): string {
  const table = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  return [HEADER, ...table]
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
}

function renderMarkdown(rows: readonly BenchRow[]): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  const line = (c: readonly string[]) => `| ${c.join(" | ")} |`;
  return [
    "<!-- Written by `pdsim bench --markdown FILE`. -->",
    "",
    `Machine: ${machine}.`,
    "",
    line(HEADER),
    line(HEADER.map(() => "---")),
    ...rows.map((r) => line(cells(r))),
    "",
  ].join("\n");
}
