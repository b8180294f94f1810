import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Simulation, type EventHandle } from "../../sim/index.ts";
import { propertyParams } from "../support/property.ts";

/** Schedules one labelled event per delay and returns the log the events append to. */
function scheduleLabelled(
  sim: Simulation,
  delays: number[],
): { log: number[]; handles: EventHandle[] } {
  const log: number[] = [];
  const handles = delays.map((d, i) => sim.schedule(d, () => log.push(i)));
  return { log, handles };
}

describe("Simulation ordering", () => {
  test("events run in time order whatever order they were scheduled in", () => {
    const sim = new Simulation();
    const seen: [string, number][] = [];
    sim.schedule(30, () => seen.push(["c", sim.now]));
    sim.schedule(10, () => seen.push(["a", sim.now]));
    sim.schedule(20, () => seen.push(["b", sim.now]));
    sim.run();
    expect(seen).toEqual([
      ["a", 10],
      ["b", 20],
      ["c", 30],
    ]);
    expect(sim.now).toBe(30);
  });

  test("firing order equals a stable sort of the schedule by time, cancelled events left out", () => {
    const schedule = fc.array(
      fc.record({ delay: fc.integer({ min: 0, max: 6 }), cancel: fc.boolean() }),
      {
        maxLength: 300,
      },
    );
    fc.assert(
      fc.property(schedule, (entries) => {
        const sim = new Simulation();
        const { log, handles } = scheduleLabelled(
          sim,
          entries.map((e) => e.delay),
        );
        entries.forEach((e, i) => e.cancel && sim.cancel(handles[i] as EventHandle));
        sim.run();
        const expected = entries
          .map((e, i) => ({ ...e, i }))
          .filter((e) => !e.cancel)
          .sort((x, y) => x.delay - y.delay) // Array.prototype.sort is stable.
          .map((e) => e.i);
        expect(log).toEqual(expected);
      }),
      propertyParams,
    );
  });

  test("an event scheduled during an action at the current time runs after those already due then", () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.schedule(5, () => {
      log.push("first");
      sim.schedule(0, () => log.push("spawned"));
    });
    sim.schedule(5, () => log.push("second"));
    sim.run();
    expect(log).toEqual(["first", "second", "spawned"]);
  });

  test("the clock never goes backwards and reads each event's own time while it runs", () => {
    const plan = fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 3 }), {
      minLength: 1,
      maxLength: 60,
    });
    fc.assert(
      fc.property(plan, (children) => {
        const sim = new Simulation();
        const observed: number[] = [];
        const due: number[] = [];
        let next = 0;
        const spawn = (delay: number): void => {
          const handle = sim.schedule(delay, () => {
            observed.push(sim.now);
            due.push(handle.time);
            for (const d of children[next++ % children.length] ?? []) {
              if (next < 500) spawn(d);
            }
          });
        };
        spawn(0);
        sim.run();
        expect(observed).toEqual(due);
        expect(observed).toEqual([...observed].sort((a, b) => a - b));
        expect(sim.eventsProcessed).toBe(observed.length);
      }),
      propertyParams,
    );
  });
});

describe("Simulation scheduling errors", () => {
  test.each([-1, 1.5, Number.NaN, Infinity, 2 ** 53])("schedule rejects delay %s", (delay) => {
    const sim = new Simulation();
    expect(() => sim.schedule(delay, () => {})).toThrow(new RegExp(`delay .*got ${delay}`));
    expect(sim.pendingEvents).toBe(0);
  });

  test("scheduleAt rejects times in the past and fractional times", () => {
    const sim = new Simulation();
    sim.schedule(100, () => {});
    sim.run();
    expect(() => sim.scheduleAt(99, () => {})).toThrow(/>= now \(100\), got 99/);
    expect(() => sim.scheduleAt(100.5, () => {})).toThrow(/got 100.5/);
    const handle = sim.scheduleAt(100, () => {});
    expect(handle.time).toBe(100);
  });

  test("a missing action is rejected at scheduling time, not when it would fire", () => {
    const sim = new Simulation();
    expect(() => sim.schedule(1, undefined as unknown as () => void)).toThrow(/function/);
  });

  test("run rejects an until in the past and a nonsensical maxEvents", () => {
    const sim = new Simulation();
    sim.run({ until: 10 });
    expect(() => sim.run({ until: 9 })).toThrow(/until .*got 9/);
    expect(() => sim.run({ maxEvents: -1 })).toThrow(/maxEvents .*got -1/);
    expect(() => sim.run({ maxEvents: 0.5 })).toThrow(/maxEvents .*got 0.5/);
  });
});

describe("Simulation cancel", () => {
  test("a cancelled event never runs and no longer counts as pending", () => {
    const sim = new Simulation();
    const { log, handles } = scheduleLabelled(sim, [1, 2, 3]);
    sim.cancel(handles[1] as EventHandle);
    expect(sim.pendingEvents).toBe(2);
    sim.run();
    expect(log).toEqual([0, 2]);
    expect(sim.eventsProcessed).toBe(2);
  });

  test("cancel is idempotent and does nothing to an event that already fired", () => {
    const sim = new Simulation();
    const { log, handles } = scheduleLabelled(sim, [1, 2]);
    sim.cancel(handles[1] as EventHandle);
    sim.cancel(handles[1] as EventHandle);
    expect(sim.pendingEvents).toBe(1);
    expect(sim.step()).toBe(true);
    sim.cancel(handles[0] as EventHandle);
    expect(sim.pendingEvents).toBe(0);
    expect(sim.eventsProcessed).toBe(1);
    expect(log).toEqual([0]);
  });

  test("an action can cancel a later event", () => {
    const sim = new Simulation();
    const log: string[] = [];
    const timeout = sim.schedule(10, () => log.push("timeout"));
    sim.schedule(5, () => {
      log.push("reply");
      sim.cancel(timeout);
    });
    sim.run();
    expect(log).toEqual(["reply"]);
    expect(sim.now).toBe(5);
  });

  test("cancelling a handle that is not from this simulation throws", () => {
    const sim = new Simulation();
    const other = new Simulation();
    const foreign = other.schedule(1, () => {});
    expect(() => sim.cancel(foreign)).toThrow(/another Simulation/);
    expect(() => sim.cancel({ time: 1 })).toThrow(/not a handle/);
  });
});

describe("Simulation step and run", () => {
  test("step runs one event, advances the clock to it, and returns false when nothing is pending", () => {
    const sim = new Simulation();
    const { log } = scheduleLabelled(sim, [7, 3]);
    expect(sim.step()).toBe(true);
    expect(sim.now).toBe(3);
    expect(log).toEqual([1]);
    expect(sim.step()).toBe(true);
    expect(sim.now).toBe(7);
    expect(sim.step()).toBe(false);
    expect(sim.now).toBe(7);
    expect(sim.eventsProcessed).toBe(2);
  });

  test("run with until runs events up to and including until, then leaves the clock at until", () => {
    const sim = new Simulation();
    const { log } = scheduleLabelled(sim, [10, 50, 51, 90]);
    sim.run({ until: 50 });
    expect(log).toEqual([0, 1]);
    expect(sim.now).toBe(50);
    expect(sim.pendingEvents).toBe(2);
    sim.run({ until: 60 });
    expect(sim.now).toBe(60);
    expect(log).toEqual([0, 1, 2]);
    sim.run();
    expect(log).toEqual([0, 1, 2, 3]);
    expect(sim.now).toBe(90);
  });

  test("run with until advances the clock even when the queue empties first", () => {
    const sim = new Simulation();
    scheduleLabelled(sim, [5]);
    sim.run({ until: 1_000 });
    expect(sim.now).toBe(1_000);
    expect(sim.pendingEvents).toBe(0);
  });

  test("run with maxEvents stops after that many events and keeps the clock at the last one", () => {
    const sim = new Simulation();
    const { log } = scheduleLabelled(sim, [1, 2, 3, 4, 5]);
    sim.run({ maxEvents: 3 });
    expect(log).toEqual([0, 1, 2]);
    expect(sim.now).toBe(3);
    expect(sim.pendingEvents).toBe(2);
    sim.run({ maxEvents: 3, until: 100 });
    expect(log).toEqual([0, 1, 2, 3, 4]);
    expect(sim.now).toBe(100);
  });

  test("maxEvents wins over until while events are still due before until", () => {
    const sim = new Simulation();
    scheduleLabelled(sim, [1, 2, 3]);
    sim.run({ maxEvents: 1, until: 10 });
    expect(sim.now).toBe(1);
    expect(sim.pendingEvents).toBe(2);
  });

  test("an action's exception propagates out of step and run, and the simulation carries on after", () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.schedule(1, () => {
      throw new Error("boom at 1");
    });
    sim.schedule(2, () => {
      throw new Error("boom at 2");
    });
    sim.schedule(3, () => log.push("after"));
    expect(() => sim.step()).toThrow("boom at 1");
    expect(() => sim.run()).toThrow("boom at 2");
    expect(sim.now).toBe(2);
    expect(sim.eventsProcessed).toBe(2);
    sim.run();
    expect(log).toEqual(["after"]);
  });

  test("calling step or run from inside an action throws", () => {
    const sim = new Simulation();
    sim.schedule(1, () => sim.step());
    expect(() => sim.run()).toThrow(/step: called from inside an event action/);
    sim.schedule(1, () => sim.run());
    expect(() => sim.step()).toThrow(/run: called from inside an event action/);
  });

  test("a fresh simulation starts at time zero with nothing pending", () => {
    const sim = new Simulation();
    expect(sim.now).toBe(0);
    expect(sim.pendingEvents).toBe(0);
    expect(sim.eventsProcessed).toBe(0);
    sim.run();
    expect(sim.now).toBe(0);
  });
});

describe("Simulation daemon events", () => {
  test("run like other events in time order, but are neither pending work nor the end of it", () => {
    const sim = new Simulation();
    const seen: string[] = [];
    const tick = (): void => {
      seen.push(`tick@${sim.now}`);
      if (sim.pendingWork > 0) sim.scheduleDaemon(10, tick);
    };
    sim.scheduleDaemon(10, tick);
    sim.schedule(25, () => seen.push(`work@${sim.now}`));
    expect([sim.pendingEvents, sim.pendingWork]).toEqual([2, 1]);
    sim.run();
    expect(seen).toEqual(["tick@10", "tick@20", "work@25", "tick@30"]);
    expect([sim.now, sim.lastWorkTime, sim.pendingWork]).toEqual([30, 25, 0]);
  });

  test("a cancelled daemon is no longer counted among the pending events", () => {
    const sim = new Simulation();
    const daemon = sim.scheduleDaemon(5, () => undefined);
    sim.schedule(7, () => undefined);
    sim.cancel(daemon);
    sim.cancel(daemon);
    expect([sim.pendingEvents, sim.pendingWork]).toEqual([1, 1]);
  });

  test("refuses a negative delay and an action that is not a function", () => {
    const sim = new Simulation();
    expect(() => sim.scheduleDaemon(-1, () => undefined)).toThrow(/scheduleDaemon: delay/);
    expect(() => sim.scheduleDaemon(1, 3 as unknown as () => void)).toThrow(
      /scheduleDaemon: action must be a function/,
    );
  });
});
