// A worker thread that runs `pdsim` commands in-process for the fuzz test, so that a case that
// hangs can be stopped (the thread is terminated) without stopping the test run.
import { parentPort } from "node:worker_threads";
import { EXIT_OK, exitForBadInput } from "../../src/cli/bad-input.ts";
import { BufferedSink, type CliIo } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { planServe } from "../../src/cli/serve-command.ts";

export interface FuzzCommand {
  args: string[];
}

export interface FuzzOutcome {
  status: number;
  stdout: string;
  stderr: string;
  /** An error escaped `main`: what Node would print before exiting 1. */
  uncaught: string | null;
}

async function run(args: string[]): Promise<FuzzOutcome> {
  const stdout = new BufferedSink();
  const stderr = new BufferedSink();
  const io = { stdout, stderr };
  try {
    // `serve` would listen until Ctrl-C: only what it does before listening is run here.
    const status = args[0] === "serve-plan" ? servePlan(io, args[1]!) : await main(args, io);
    return { status, stdout: stdout.text(), stderr: stderr.text(), uncaught: null };
  } catch (err) {
    const uncaught = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return { status: 1, stdout: stdout.text(), stderr: stderr.text(), uncaught };
  }
}

function servePlan(io: CliIo, scenario: string): number {
  try {
    planServe({ scenario, port: "8000", speed: "1", host: "127.0.0.1" });
    return EXIT_OK;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}

parentPort!.on("message", (command: FuzzCommand) => {
  void run(command.args).then((outcome) => parentPort!.postMessage(outcome));
});
