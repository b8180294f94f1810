// The discrete-event kernel: a virtual clock and the queue of actions scheduled on it.

import { EventQueue, QueuedEvent } from "./event-queue.ts";
import type { SimTime } from "./time.ts";

/** What `schedule` returns: enough to cancel the event and to see when it is due. */
export interface EventHandle {
  readonly time: SimTime;
}

export interface RunOptions {
  /** Stop before the first event later than this; the clock then reads exactly `until`. */
  until?: SimTime;
  /** Stop after this many events have run in this call. */
  maxEvents?: number;
}

/**
 * Events at equal times fire in the order they were scheduled. An action may schedule and
 * cancel events but may not call `step` or `run`: nested stepping would interleave two
 * clocks' worth of work on one queue.
 */
export class Simulation {
  private readonly queue = new EventQueue();
  private clock: SimTime = 0;
  private processed = 0;
  private firing = false;

  get now(): SimTime {
    return this.clock;
  }

  /** Events that have run, counting one whose action threw. */
  get eventsProcessed(): number {
    return this.processed;
  }

  /** Events scheduled and neither fired nor cancelled. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  schedule(delay: SimTime, action: () => void): EventHandle {
    if (!Number.isSafeInteger(delay) || delay < 0) {
      throw new Error(
        `Simulation.schedule: delay must be a non-negative integer number of microseconds, got ${delay}`,
      );
    }
    return this.scheduleAt(this.clock + delay, action);
  }

  scheduleAt(time: SimTime, action: () => void): EventHandle {
    if (!Number.isSafeInteger(time) || time < this.clock) {
      throw new Error(
        `Simulation.scheduleAt: time must be an integer number of microseconds >= now (${this.clock}), got ${time}`,
      );
    }
    if (typeof action !== "function") {
      throw new Error(`Simulation.scheduleAt: action must be a function, got ${typeof action}`);
    }
    return this.queue.push(time, action);
  }

  /** Idempotent; cancelling an event that already fired does nothing. */
  cancel(handle: EventHandle): void {
    if (!(handle instanceof QueuedEvent)) {
      throw new Error("Simulation.cancel: not a handle returned by schedule/scheduleAt");
    }
    if (handle.queue !== this.queue) {
      throw new Error("Simulation.cancel: the handle belongs to another Simulation");
    }
    this.queue.cancel(handle);
  }

  /** Runs the next pending event; returns false if there is none. */
  step(): boolean {
    this.assertNotFiring("step");
    const event = this.queue.pop();
    if (event === undefined) return false;
    this.fire(event);
    return true;
  }

  /**
   * Runs events until the queue is empty, the next event is later than `until`, or `maxEvents`
   * have run. Events at exactly `until` do run. A run with `until` leaves the clock at `until`
   * unless `maxEvents` stopped it with events still due by then, so it reads as "advance to".
   */
  run(opts: RunOptions = {}): void {
    this.assertNotFiring("run");
    const { until, maxEvents = Infinity } = opts;
    if (until !== undefined && (!Number.isSafeInteger(until) || until < this.clock)) {
      throw new Error(
        `Simulation.run: until must be an integer number of microseconds >= now (${this.clock}), got ${until}`,
      );
    }
    if (maxEvents !== Infinity && (!Number.isSafeInteger(maxEvents) || maxEvents < 0)) {
      throw new Error(`Simulation.run: maxEvents must be a non-negative integer, got ${maxEvents}`);
    }
    const limit = until ?? Infinity;
    for (let ran = 0; ; ran++) {
      const next = this.queue.peek();
      if (next === undefined || next.time > limit) {
        if (until !== undefined) this.clock = until;
        return;
      }
      if (ran >= maxEvents) return;
      this.queue.pop();
      this.fire(next);
    }
  }

  private fire(event: QueuedEvent): void {
    if (event.time < this.clock) {
      throw new Error(
        `Simulation: clock would go backwards, event time ${event.time} < now ${this.clock}`,
      );
    }
    const action = event.action as () => void;
    event.action = null;
    this.clock = event.time;
    this.processed++;
    this.firing = true;
    try {
      action();
    } finally {
      this.firing = false;
    }
  }

  private assertNotFiring(method: string): void {
    if (this.firing) {
      throw new Error(`Simulation.${method}: called from inside an event action`);
    }
  }
}
