// The page's side of the worker: it starts the worker from the bundled source (a Blob, since a
// page opened from file:// may not load a worker script by URL), matches answers to requests,
// and stops a run by ending the worker and starting a fresh one.

import type { FromWorker, ToWorker } from "./worker-protocol.ts";

type Answer<T extends FromWorker["type"]> = Extract<FromWorker, { type: T }>;

export class WorkerClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(message: FromWorker): void; reject(error: Error): void }
  >();
  private readonly url: string;
  onProgress: ((done: number, total: number, simulatedS: number) => void) | null = null;

  constructor(source: string) {
    this.url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    this.worker = this.start();
  }

  validate(text: string, file: string): Promise<Answer<"validated">> {
    return this.request({ type: "validate", text, file }) as Promise<Answer<"validated">>;
  }

  run(message: Omit<Extract<ToWorker, { type: "run" }>, "id" | "type">): Promise<Answer<"result">> {
    return this.request({ type: "run", ...message }) as Promise<Answer<"result">>;
  }

  explain(
    message: Omit<Extract<ToWorker, { type: "explain" }>, "id" | "type">,
  ): Promise<Answer<"explained">> {
    return this.request({ type: "explain", ...message }) as Promise<Answer<"explained">>;
  }

  private request(message: DistributiveOmit<ToWorker, "id">): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  /** Ends whatever the worker is doing; what was asked of it is rejected with `Stopped`. */
  stop(): void {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Stopped());
    this.pending.clear();
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(this.url);
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === "progress") {
        this.onProgress?.(message.done, message.total, message.simulatedS);
        return;
      }
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === "crashed") waiting?.reject(new Error(message.message));
      else waiting?.resolve(message);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      for (const { reject } of this.pending.values()) reject(new Error(event.message));
      this.pending.clear();
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
