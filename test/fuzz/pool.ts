// Runs fuzz commands on a few worker threads, each command with a time limit: a command still
// running at its limit has its thread terminated and is reported as timed out.
import { Worker } from "node:worker_threads";
import type { FuzzCommand, FuzzOutcome } from "./fuzz-worker.ts";

export type PoolOutcome = FuzzOutcome | { timedOut: true } | { crashed: string };

export class FuzzPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();

  constructor(
    size: number,
    private readonly limitMs: number,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  async run(command: FuzzCommand): Promise<PoolOutcome> {
    const worker = await this.take();
    return new Promise((resolve) => {
      const replace = (outcome: PoolOutcome): void => {
        clearTimeout(timer);
        worker.removeAllListeners("message");
        worker.removeAllListeners("error");
        this.all.delete(worker);
        void worker.terminate();
        this.give(this.spawn());
        resolve(outcome);
      };
      const timer = setTimeout(() => replace({ timedOut: true }), this.limitMs);
      worker.once("error", (err) => replace({ crashed: String(err) }));
      worker.once("message", (outcome: FuzzOutcome) => {
        clearTimeout(timer);
        worker.removeAllListeners("error");
        this.give(worker);
        resolve(outcome);
      });
      worker.postMessage(command);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./fuzz-worker.js", import.meta.url), {
      stdout: true,
      stderr: true,
    });
    this.all.add(worker);
    return worker;
  }

  private take(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker !== undefined) return Promise.resolve(worker);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(worker: Worker): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(worker);
    else this.idle.push(worker);
  }
}
