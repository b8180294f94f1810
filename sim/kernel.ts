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
  private pendingDaemons = 0;
  private lastWork: SimTime = 0;

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

  /** When the next pending event is due, or null when none is. */
  get nextEventTime(): SimTime | null {
    return this.queue.peek()?.time ?? null;
  }

  /** Pending events that are not daemons: while there are none, only periodic timers tick. */
  get pendingWork(): number {
    return this.queue.size - this.pendingDaemons;
  }

  /** When the last event that was not a daemon ran: where the simulated work ended. */
  get lastWorkTime(): SimTime {
    return this.lastWork;
  }

  schedule(delay: SimTime, action: () => void): EventHandle {
    return this.scheduleAt(this.afterDelay(delay, "schedule"), action);
  }

  /**
   * Schedules a periodic timer's tick (a log line, a scrape): it runs like any event, but is not
   * work, so `pendingWork` leaves it out and it does not move `lastWorkTime`.
   */
  scheduleDaemon(delay: SimTime, action: () => void): EventHandle {
    const time = this.afterDelay(delay, "scheduleDaemon");
    this.checkAction(action, "scheduleDaemon");
    this.pendingDaemons++;
    return this.queue.push(time, action, true);
  }

  scheduleAt(time: SimTime, action: () => void): EventHandle {
    if (!Number.isSafeInteger(time) || time < this.clock) {
      throw new Error(
        `Simulation.scheduleAt: time must be an integer number of microseconds >= now (${this.clock}), got ${time}`,
      );
    }
    this.checkAction(action, "scheduleAt");
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
    if (this.queue.cancel(handle) && handle.daemon) this.pendingDaemons--;
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
    if (event.daemon) this.pendingDaemons--;
    else this.lastWork = event.time;
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

  private afterDelay(delay: SimTime, method: string): SimTime {
    if (!Number.isSafeInteger(delay) || delay < 0) {
      throw new Error(
        `Simulation.${method}: delay must be a non-negative integer number of microseconds, got ${delay}`,
      );
    }
    return this.clock + delay;
  }

  private checkAction(action: unknown, method: string): void {
    if (typeof action !== "function") {
      throw new Error(`Simulation.${method}: action must be a function, got ${typeof action}`);
    }
  }
}
