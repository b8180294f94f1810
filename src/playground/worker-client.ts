// The page's side of a worker: it starts the worker from the bundled source (a Blob, since a
// page opened from file:// may not load a worker script by URL), matches answers and progress
// to requests, and stops a run by ending the worker and starting a fresh one.

import type { FromWorker, ToWorker } from "./worker-protocol.ts";

type Answer<T extends FromWorker["type"]> = Extract<FromWorker, { type: T }>;
type Progress = (done: number, total: number, simulatedS: number) => void;

interface Pending {
  resolve(message: FromWorker): void;
  reject(error: Error): void;
  onProgress?: Progress | undefined;
}

export class WorkerClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly url: string;

  constructor(source: string) {
    this.url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    this.worker = this.start();
  }

  validate(text: string, file: string): Promise<Answer<"validated">> {
    return this.request({ type: "validate", text, file }) as Promise<Answer<"validated">>;
  }

  run(
    message: Omit<Extract<ToWorker, { type: "run" }>, "id" | "type">,
    onProgress?: Progress,
  ): Promise<Answer<"result">> {
    return this.request({ type: "run", ...message }, onProgress) as Promise<Answer<"result">>;
  }

  explain(
    message: Omit<Extract<ToWorker, { type: "explain" }>, "id" | "type">,
  ): Promise<Answer<"explained">> {
    return this.request({ type: "explain", ...message }) as Promise<Answer<"explained">>;
  }

  /** Ends whatever the worker is doing; what was asked of it is rejected with `Stopped`. */
  stop(): void {
    this.restart(new Stopped());
  }

  private request(
    message: DistributiveOmit<ToWorker, "id">,
    onProgress?: Progress,
  ): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  private restart(reason: Error): void {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(reason);
    this.pending.clear();
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(this.url);
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      const waiting = this.pending.get(message.id);
      if (message.type === "progress") {
        waiting?.onProgress?.(message.done, message.total, message.simulatedS);
        return;
      }
      this.pending.delete(message.id);
      if (message.type === "crashed") waiting?.reject(new Error(message.message));
      else waiting?.resolve(message);
    };
    // An error the worker could not catch (out of memory): it is gone, so start another.
    worker.onerror = (event) => {
      event.preventDefault();
      this.restart(new Error(event.message || "the simulator's worker stopped"));
    };
    return worker;
  }
}

export class Stopped extends Error {
  constructor() {
    super("stopped");
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
