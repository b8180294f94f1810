// The `pdsim` command line: parses arguments with yargs and hands each command to its module.
// `main` returns the exit code instead of exiting, so tests run the CLI in their own process.

import * as fs from "node:fs";
import yargs from "yargs";
import { PROFILE_NAMES } from "../scenario/index.ts";
import {
  BENCH_CONFIGS,
  BENCH_SCENARIOS,
  type BenchConfigName,
  benchCommand,
} from "./bench-command.ts";
import { benchRunCommand } from "./bench-run.ts";
import { DEFAULT_CHECK_RUNS, checkCommand } from "./check-command.ts";
import { configCommand } from "./config-command.ts";
import { explainCommand } from "./explain-command.ts";
import { runCommand } from "./run-command.ts";
import { serveCommand } from "./serve-command.ts";
import { traceStatsCommand } from "./trace-command.ts";
import {
  CSV_TIME_UNITS,
  type CsvTimeUnit,
  MOONCAKE_BLOCK_TOKENS,
  TRACE_FORMATS,
  type TraceFormat,
} from "../scenario/trace-schema.ts";
import { EXIT_BAD_INPUT, EXIT_OK } from "./bad-input.ts";
import { DEFAULT_WORKERS } from "../sweep/local-runner.ts";
import { sweepCommand } from "./sweep-command.ts";
import { workerCommand } from "./worker-command.ts";
import { type CliIo, PROCESS_IO } from "./io.ts";

export const VERSION = (
  JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** A usage mistake yargs found (unknown option, missing argument); reported with exit 2. */
class ArgumentError extends Error {}

/** Runs `pdsim ARGS…` and returns its exit code; `args` excludes `node` and the script. */
export async function main(args: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  let exitCode = EXIT_OK;
  const parser = yargs([...args])
    .scriptName("pdsim")
    .usage("$0 <command> [options]")
    .command(
      "run <scenario>",
      "Simulate a scenario: vLLM log lines at each instance's interval, then a summary",
      (y) =>
        y
          .positional("scenario", {
            type: "string",
            demandOption: true,
            describe: "Scenario YAML file",
          })
          // A string, checked by runCommand: yargs turns "abc" into NaN and a bare --seed into nothing.
          .option("seed", { type: "string", describe: "Override the scenario's seed" })
          .option("profile", {
            type: "string",
            choices: [...PROFILE_NAMES, "all"],
            describe:
              "Accounting profile (default: the scenario's metrics.profile); 'all' also writes every profile's expositions to DIR/metrics/<profile>/",
          })
          .option("out", {
            type: "string",
            describe:
              "Write metrics/<instance>.prom, metrics.om, requests.jsonl, trace.json, report.html and summary.json here",
          })
          .option("quiet", {
            type: "boolean",
            default: false,
            describe: "No log lines, only the summary",
          })
          .option("json", {
            type: "boolean",
            default: false,
            describe: "Print summary.json to stdout instead of text",
          }),
      async (argv) => {
        exitCode = await runCommand(io, {
          scenario: argv.scenario,
          seed: argv.seed,
          profile: argv.profile,
          out: argv.out,
          quiet: argv.quiet,
          json: argv.json,
        });
      },
    )
    .command(
      "explain <scenario>",
      "Tell one request's story on every instance and compare its prompt accounting under the truth and every vLLM profile",
      (y) =>
        y
          .positional("scenario", {
            type: "string",
            demandOption: true,
            describe: "Scenario YAML file",
          })
          .option("request", { type: "string", demandOption: true, describe: "The request id" })
          .option("seed", { type: "string", describe: "Override the scenario's seed" })
          .option("json", { type: "boolean", default: false, describe: "Print JSON for tools" }),
      (argv) => {
        exitCode = explainCommand(io, {
          scenario: argv.scenario,
          request: argv.request,
          seed: argv.seed,
          json: argv.json,
        });
      },
    )
    .command(
      "serve <scenario>",
      "Run the scenario in real time (or --speed times faster) and serve each instance's /metrics on its own port, P, P+1, … in scenario order",
      (y) =>
        y
          .positional("scenario", {
            type: "string",
            demandOption: true,
            describe: "Scenario YAML file",
          })
          .option("port", {
            type: "string",
            default: "8000",
            describe: "The first instance's port",
          })
          .option("speed", {
            type: "string",
            default: "1",
            describe: "Simulated seconds per wall-clock second",
          })
          .option("host", {
            type: "string",
            default: "127.0.0.1",
            describe: "Address to bind (loopback unless told otherwise)",
          })
          .option("seed", { type: "string", describe: "Override the scenario's seed" })
          .option("profile", {
            type: "string",
            choices: [...PROFILE_NAMES],
            describe: "Accounting profile (default: the scenario's metrics.profile)",
          }),
      async (argv) => {
        exitCode = await serveCommand(io, {
          scenario: argv.scenario,
          port: argv.port,
          speed: argv.speed,
          host: argv.host,
          seed: argv.seed,
          profile: argv.profile,
        });
      },
    )
    .command(
      "check <scenario>",
      "Check the invariant catalogue (INVARIANTS.md) over the scenario and perturbations of it; print each broken invariant's smallest counterexample",
      (y) =>
        y
          .positional("scenario", {
            type: "string",
            demandOption: true,
            describe: "Scenario YAML file",
          })
          .option("runs", {
            type: "string",
            describe: `Runs to check: the scenario itself, then perturbations (default ${DEFAULT_CHECK_RUNS})`,
          })
          .option("profile", {
            type: "string",
            choices: [...PROFILE_NAMES],
            describe:
              "Accounting profile to hold to the catalogue (default: the scenario's metrics.profile)",
          })
          .option("seed", {
            type: "string",
            describe: "Seed of the perturbation search (default: the scenario's seed)",
          })
          .option("out", {
            type: "string",
            describe:
              "Write each counterexample to DIR/<invariant>.<subject>.yaml and the report to DIR/check.txt",
          }),
      (argv) => {
        exitCode = checkCommand(io, {
          scenario: argv.scenario,
          runs: argv.runs,
          profile: argv.profile,
          seed: argv.seed,
          out: argv.out,
        });
      },
    )
    .command(
      "bench",
      "Time the reference scenarios of scenarios/bench/ with stat loggers off, as pdsim run does, with --profile all and with --out, each in a fresh process",
      (y) =>
        y
          .option("quick", { type: "boolean", default: false, describe: "bench-small only" })
          .option("scenario", {
            type: "string",
            array: true,
            choices: [...BENCH_SCENARIOS],
            describe: "Only these scenarios",
          })
          .option("config", {
            type: "string",
            array: true,
            choices: Object.keys(BENCH_CONFIGS),
            describe:
              "Only these configurations: off (stat loggers off), on (as pdsim run runs), all (--profile all), out (--out)",
          })
          .option("json", { type: "boolean", default: false, describe: "Print the rows as JSON" })
          .option("markdown", {
            type: "string",
            describe: "Also write the table, with the machine, to this file",
          })
          .option("repeat", {
            type: "number",
            default: 1,
            describe: "Run each configuration this many times and keep the fastest",
          }),
      (argv) => {
        exitCode = benchCommand(io, {
          quick: argv.quick,
          scenarios: argv.scenario,
          configs: argv.config as BenchConfigName[] | undefined,
          json: argv.json,
          markdown: argv.markdown,
          repeat: argv.repeat,
        });
      },
    )
    .command(
      "config <scenario>",
      "Print each instance's engine as the scenario resolves it: model, KV bytes per token, GPU, cache size, maximum concurrency, step times",
      (y) =>
        y
          .positional("scenario", {
            type: "string",
            demandOption: true,
            describe: "Scenario YAML file",
          })
          .option("json", { type: "boolean", default: false, describe: "Print JSON for tools" }),
      (argv) => {
        exitCode = configCommand(io, { scenario: argv.scenario, json: argv.json });
      },
    )
    .command(
      "sweep <sweep>",
      "Run every variant of a scenario a sweep file names, with each of its seeds, on every core; write DIR/runs.csv and DIR/sweep.json",
      (y) =>
        y
          .positional("sweep", { type: "string", demandOption: true, describe: "Sweep YAML file" })
          .option("out", {
            type: "string",
            describe:
              "Results directory (default sweeps/NAME); runs already in it are not run again",
          })
          .option("workers", {
            type: "number",
            describe: `Runs at once, each on a thread of its own (default: every core, ${DEFAULT_WORKERS} here)`,
          })
          .option("resume", {
            type: "boolean",
            default: false,
            describe: "Finish an interrupted sweep in --out, running only what is missing",
          })
          .option("dry-run", {
            type: "boolean",
            default: false,
            describe: "List the runs and their keys; run nothing, write nothing",
          })
          .option("search", {
            type: "string",
            choices: ["rate"],
            describe:
              "Find each configuration's highest arrival rate that meets the sweep's search objective, by bisection; write DIR/search.csv",
          })
          .option("queue", {
            type: "string",
            describe:
              "redis://HOST:PORT: put the runs on this Redis's queue for `pdsim worker`s to take, and wait for their results",
          }),
      async (argv) => {
        exitCode = await sweepCommand(io, {
          sweep: argv.sweep,
          out: argv.out,
          workers: argv.workers,
          resume: argv.resume,
          dryRun: argv["dry-run"],
          search: argv.search,
          queue: argv.queue,
          version: VERSION,
        });
      },
    )
    .command(
      "worker",
      "Take the runs of sweeps submitted with --queue from a Redis queue and run them on this machine until stopped",
      (y) =>
        y
          .option("queue", {
            type: "string",
            demandOption: true,
            describe: "redis://HOST:PORT of the queue's Redis",
          })
          .option("concurrency", {
            type: "number",
            describe: `Runs at once, each on a thread of its own (default: every core, ${DEFAULT_WORKERS} here)`,
          })
          .option("lock-ms", { type: "number", hidden: true }),
      async (argv) => {
        exitCode = await workerCommand(io, {
          queue: argv.queue,
          concurrency: argv.concurrency,
          lockMs: argv["lock-ms"],
          version: VERSION,
        });
      },
    )
    .command("trace", "Read a trace file: pdsim trace stats FILE", (y) =>
      y
        .command(
          "stats <file>",
          "Requests, duration, arrival rate, prompt and output lengths, and the ideal prefix hit ratio of a trace",
          (yy) =>
            yy
              .positional("file", { type: "string", demandOption: true, describe: "Trace file" })
              .option("format", {
                type: "string",
                choices: [...TRACE_FORMATS],
                default: "mooncake",
                describe: "The trace's format",
              })
              .option("block-size", {
                type: "number",
                default: 16,
                describe: "vLLM's block_size for the ideal prefix hit ratio",
              })
              .option("block-tokens", {
                type: "number",
                describe: `Tokens per hash id (mooncake; default ${MOONCAKE_BLOCK_TOKENS})`,
              })
              .option("column", {
                type: "string",
                array: true,
                describe:
                  "csv: KEY=NAME for a column other than Azure's (time=TIMESTAMP, prompt_tokens=ContextTokens, output_tokens=GeneratedTokens; prefix=, prefix_tokens=)",
              })
              .option("time-unit", {
                type: "string",
                choices: [...CSV_TIME_UNITS],
                describe:
                  "csv: how the time column reads (default auto: a number is seconds, else a date and time)",
              })
              .option("tokenizer", {
                type: "string",
                describe: "A Hugging Face tokenizer.json (openai-jsonl; default: Qwen3's, shipped)",
              })
              .option("json", {
                type: "boolean",
                default: false,
                describe: "Print JSON for tools",
              }),
          (argv) => {
            exitCode = traceStatsCommand(io, {
              columns: argv.column,
              timeUnit: argv["time-unit"] as CsvTimeUnit | undefined,
              file: argv.file,
              format: argv.format as TraceFormat,
              blockSize: argv["block-size"],
              blockTokens: argv["block-tokens"],
              tokenizer: argv.tokenizer,
              json: argv.json,
            });
          },
        )
        .demandCommand(1, "Name a trace command: pdsim trace stats FILE"),
    )
    .command(
      "bench-run <scenario>",
      false,
      (y) => y.positional("scenario", { type: "string", demandOption: true }),
      (argv) => {
        exitCode = benchRunCommand(io, argv.scenario);
      },
    )
    .demandCommand(
      1,
      "Name a command: pdsim run SCENARIO, pdsim check SCENARIO, pdsim explain SCENARIO --request ID, pdsim serve SCENARIO, pdsim config SCENARIO, pdsim sweep SWEEP, pdsim worker --queue URL, pdsim trace stats FILE or pdsim bench",
    )
    .strict()
    .fail((msg, err) => {
      throw err ?? new ArgumentError(msg);
    })
    .help()
    .version(VERSION)
    .exitProcess(false);

  try {
    // With a callback, yargs hands over --help and --version text instead of printing it.
    let shown = "";
    await parser.parseAsync([...args], {}, (_err, _argv, output) => {
      shown = output;
    });
    if (shown !== "") io.stdout.write(shown + "\n");
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    io.stderr.write(`pdsim: ${err.message}\nRun 'pdsim --help' for usage.\n`);
    return EXIT_BAD_INPUT;
  }
  return exitCode;
}
