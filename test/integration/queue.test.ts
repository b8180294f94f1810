// A sweep across machines, played on one: Debian's redis-server on a free loopback port, two
// `pdsim worker` processes and `pdsim sweep --queue`. One worker is killed with SIGKILL while it
// holds a run; every run still ends in the table exactly once, and the table equals the same
// sweep run locally. Needs Debian's redis-server package (installed by .ci/run).

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Queue } from "bullmq";
import { parse as parseCsv } from "csv-parse/sync";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../src/cli/main.ts";
import { jobIdOf, runOnQueue } from "../../src/sweep/queue-runner.ts";
import { queueName } from "../../src/sweep/queue-url.ts";
import type { RunResult } from "../../src/sweep/run-one.ts";
import { loadSweep } from "../../src/sweep/sweep-file.ts";
import { freePort } from "../support/net.ts";

const root = path.resolve(import.meta.dirname, "../..");
/** A dead worker's runs are taken back after two seconds, not BullMQ's thirty. */
const LOCK_MS = "2000";

let work: string;
let redis: ChildProcess | null = null;
let url: string;
let client: Redis;
let queue: Queue;
let sweepFile: string;
const workers: ChildProcess[] = [];

interface Finished {
  status: number | null;
  stderr: string;
}

/** Runs `pdsim ARGS…` as a child process, as a user's shell would. */
function pdsim(...args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, ["src/cli/bin.js", ...args], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolve) =>
    child.once("exit", (status) => resolve({ status, stderr })),
  );
  return { child, done };
}

/** A `pdsim worker` with one run at a time, once it has said it is taking runs. */
async function startWorker(): Promise<ChildProcess> {
  const { child } = pdsim("worker", "--queue", url, "--concurrency", "1", "--lock-ms", LOCK_MS);
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes("taking runs")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`pdsim worker exited ${code}: ${seen}`)));
  });
  return child;
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 1200; attempt++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

type Row = Record<string, string>;
const rowsOf = (out: string): Row[] =>
  parseCsv(fs.readFileSync(path.join(out, "runs.csv"), "utf8"), { columns: true }) as Row[];
/** The table without the one column that differs between two runs of the same sweep. */
const table = (out: string) => rowsOf(out).map(({ wall_s: _, ...rest }) => rest);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-queue-"));
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const started = new Promise<void>((resolve, reject) => {
    redis!.once("error", (error) =>
      reject(new Error(`redis-server: ${error.message}: install Debian's redis-server package`)),
    );
    redis!.once("spawn", resolve);
  });
  await started;
  // ioredis connects again until redis-server listens; the ping waits for it.
  client = new Redis(url, { maxRetriesPerRequest: null });
  client.on("error", () => {
    // Refused until redis-server listens.
  });
  const exited = new Promise<never>((_, reject) =>
    redis!.once("exit", (code) => reject(new Error(`redis-server exited ${code} at start`))),
  );
  expect(await Promise.race([client.ping(), exited])).toBe("PONG");
  queue = new Queue(queueName(VERSION), { connection: client });

  // 5 sizes × 8 seeds of the quickstart scenario: 40 runs of a fraction of a second each.
  sweepFile = path.join(work, "grid.yaml");
  fs.writeFileSync(
    sweepFile,
    [
      `scenario: ${path.join(root, "scenarios/quickstart.yaml")}`,
      "grid:",
      "  workload.num_requests: [60, 80, 100, 120, 140]",
      "seeds: { count: 8 }",
      "collect:",
      "  summary: [requests.finished, simulated_seconds, instances.unified-0.prefix_cache_hits]",
      "  latency: [ttft_p50, e2e_mean]",
      "  truth_vs_reported: true",
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  for (const worker of workers) {
    if (worker.exitCode !== null || worker.signalCode !== null) continue;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.kill("SIGTERM");
    await exited;
  }
  await queue?.close();
  client?.disconnect();
  if (redis !== null && redis.exitCode === null) {
    const exited = new Promise((resolve) => redis!.once("exit", resolve));
    redis.kill("SIGTERM");
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

describe("pdsim sweep --queue with pdsim workers", () => {
  const local = () => path.join(work, "local");
  const queued = () => path.join(work, "queued");

  it("puts every run in the table exactly once though a worker is killed mid-run, and the table equals a local run's", async () => {
    const reference = await pdsim("sweep", sweepFile, "--out", local(), "--workers", "1").done;
    expect(reference.status, reference.stderr).toBe(0);

    const doomed = await startWorker();
    await startWorker();
    const sweep = pdsim("sweep", sweepFile, "--out", queued(), "--queue", url);
    // Once some runs are done, and while the doomed worker holds one.
    await until("the doomed worker holds a run, after some are done", async () => {
      if ((await queue.getCompletedCount()) < 5) return false;
      return (await queue.getActive()).some((job) => job.processedBy?.endsWith(`:${doomed.pid}`));
    });
    doomed.kill("SIGKILL");

    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("40 runs: 0 already done, 40 run now, 0 failed, 0 not run");
    const rows = rowsOf(queued());
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.key)).size).toBe(40);
    expect(rows.filter((r) => r.status !== "ok")).toEqual([]);
    expect(table(queued())).toEqual(table(local()));
    // What the killed worker held (the run seen above, or the next one if that one ended just
    // before the kill) was taken for stalled once and run again by the other worker.
    const byDoomed = (job: { processedBy?: string }) =>
      job.processedBy?.endsWith(`:${doomed.pid}`) ?? false;
    const stalled = (await queue.getJobs(["completed"]))
      .filter((job) => job.stalledCounter > 0)
      .map((job) => ({ stalledCounter: job.stalledCounter, byDoomed: byDoomed(job) }));
    expect(stalled.length).toBeGreaterThanOrEqual(1);
    expect(stalled).toEqual(stalled.map(() => ({ stalledCounter: 1, byDoomed: false })));
  });

  it("adds no job when the same sweep is submitted again, and collects every result", async () => {
    const before = await queue.getJobCounts();
    const again = await pdsim("sweep", sweepFile, "--out", path.join(work, "again"), "--queue", url)
      .done;
    expect(again.status, again.stderr).toBe(0);
    expect(await queue.getJobCounts()).toEqual(before);
    expect(before).toMatchObject({ completed: 40, waiting: 0, active: 0, failed: 0 });
    expect(table(path.join(work, "again"))).toEqual(table(local()));
  });

  it("fails a job whose processor throws once, not again and again, and a resubmission reports its error", async () => {
    const sweep = loadSweep(sweepFile, VERSION);
    const spec = { ...sweep.runs[0]!, key: "broken", index: 0 };
    const jobId = jobIdOf(spec, sweep.collect);
    // A job of this run whose data the processor cannot read.
    await queue.add("run", { spec: null, collect: sweep.collect }, { jobId });
    const job = async () => (await queue.getJob(jobId))!;
    await until("the job fails", async () => (await (await job()).getState()) === "failed");
    await new Promise((r) => setTimeout(r, 2 * Number(LOCK_MS)));
    expect({
      state: await (await job()).getState(),
      attemptsMade: (await job()).attemptsMade,
    }).toEqual({
      state: "failed",
      attemptsMade: 1,
    });
    // Submitted again, it is tried again (as the local runner runs a failed run again), and fails.
    const results: RunResult[] = [];
    await runOnQueue([spec], sweep.collect, {
      url,
      version: VERSION,
      onResult: (r) => results.push(r),
      stopped: () => false,
    });
    expect(results).toMatchObject([{ key: "broken", status: "failed", values: {} }]);
    expect(results[0]!.error).toContain("Cannot read properties of null");
  });
});

describe("an unreachable Redis", () => {
  it("is one line on stderr and exit 2, for pdsim sweep (writing nothing) and pdsim worker", async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const out = path.join(work, "nowhere");
    const sweep = await pdsim("sweep", sweepFile, "--out", out, "--queue", nowhere).done;
    expect(sweep.status).toBe(2);
    expect(sweep.stderr).toMatch(/^pdsim: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*\n$/);
    expect(fs.existsSync(out)).toBe(false);
    const worker = await pdsim("worker", "--queue", nowhere).done;
    expect(worker.status).toBe(2);
    expect(worker.stderr).toMatch(/^pdsim: cannot reach Redis at .*\n$/);
    const bad = await pdsim("sweep", sweepFile, "--out", out, "--queue", "http://x").done;
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({
      status: 2,
      stderr: "pdsim: --queue must be a redis:// URL, got 'http://x'\n",
    });
  });
});
