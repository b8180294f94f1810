// The clients in front of the proxy. Open loop, each request is sent at its arrival time. With
// `workload.concurrency: C`, C clients each send their next request only once their previous
// one has finished, as `vllm bench serve --max-concurrency` does: a request that comes due with
// every client busy waits, in order, and is sent (its arrival stamped) when one frees.
//
// The source is read one request ahead, and not at all while that request waits, so a trace
// of any length waits in the file, not in memory.

import type { Simulation } from "../../sim/index.ts";
import type { ClientRequest, FinishedRequest, WorkloadSource } from "../workload/client-request.ts";

interface Due {
  request: ClientRequest;
  /** Read from the source (rather than a follow-up): sending it reads the next. */
  pulled: boolean;
}

export class Clients {
  private inFlight = 0;
  /** Due requests no client could take yet, in order; sent ones are cleared from the front. */
  private readonly waiting: (Due | undefined)[] = [];
  private waitingHead = 0;
  private sourceDone = false;
  private followUpsPending = 0;
  /**
   * Sending a waiting request can end at once (a prompt the instance refuses), which frees its
   * client inside the loop that sent it: that inner call leaves the sending to the loop.
   */
  private draining = false;

  constructor(
    private readonly sim: Simulation,
    private readonly source: WorkloadSource,
    private readonly concurrency: number | null,
    private readonly send: (request: ClientRequest) => void,
  ) {}

  start(): void {
    this.pull();
  }

  /** Requests that will still be sent: the source's, follow-ups not yet due, and those waiting. */
  get arrivalsPending(): boolean {
    return !this.sourceDone || this.followUpsPending > 0 || this.waitingHead < this.waiting.length;
  }

  /** A sent request's response ended: its client is free, and it may lead to another request. */
  finished(finished: FinishedRequest): void {
    this.inFlight -= 1;
    const follow = this.source.followUp?.(finished) ?? null;
    if (follow !== null) {
      this.followUpsPending += 1;
      this.sim.scheduleAt(Math.max(follow.arrivalTime, this.sim.now), () => {
        this.followUpsPending -= 1;
        this.due({ request: follow, pulled: false });
      });
    }
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waitingHead < this.waiting.length && this.hasFreeClient()) {
        const next = this.waiting[this.waitingHead]!;
        this.waiting[this.waitingHead++] = undefined;
        if (this.waitingHead === this.waiting.length) {
          this.waiting.length = 0;
          this.waitingHead = 0;
        }
        this.dispatch(next);
      }
    } finally {
      this.draining = false;
    }
  }

  private pull(): void {
    const next = this.source.next();
    if (next === null) {
      this.sourceDone = true;
      return;
    }
    this.sim.scheduleAt(Math.max(next.arrivalTime, this.sim.now), () =>
      this.due({ request: next, pulled: true }),
    );
  }

  private due(due: Due): void {
    if (this.hasFreeClient()) this.dispatch(due);
    else this.waiting.push(due);
  }

  private hasFreeClient(): boolean {
    return this.concurrency === null || this.inFlight < this.concurrency;
  }

  private dispatch({ request, pulled }: Due): void {
    this.inFlight += 1;
    const now = this.sim.now;
    this.send(request.arrivalTime === now ? request : { ...request, arrivalTime: now });
    if (pulled) this.pull();
  }
}
