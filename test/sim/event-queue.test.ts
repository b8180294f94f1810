import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EventQueue, type QueuedEvent } from "../../sim/event-queue.ts";
import { propertyParams } from "../support/property.ts";

const noop = (): void => {};

function drain(queue: EventQueue): QueuedEvent[] {
  const out: QueuedEvent[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) out.push(e);
  return out;
}

describe("EventQueue", () => {
  test("pops in order of time, then insertion sequence", () => {
    const queue = new EventQueue();
    const a = queue.push(5, noop);
    const b = queue.push(1, noop);
    const c = queue.push(5, noop);
    const d = queue.push(0, noop);
    expect(drain(queue)).toEqual([d, b, a, c]);
  });

  test("peek returns the next event without removing it", () => {
    const queue = new EventQueue();
    expect(queue.peek()).toBeUndefined();
    const late = queue.push(9, noop);
    const early = queue.push(3, noop);
    expect(queue.peek()).toBe(early);
    expect(queue.size).toBe(2);
    expect(queue.pop()).toBe(early);
    expect(queue.peek()).toBe(late);
  });

  test("cancelled events are skipped and size counts only pending ones", () => {
    const queue = new EventQueue();
    const a = queue.push(1, noop);
    const b = queue.push(2, noop);
    const c = queue.push(3, noop);
    expect(queue.cancel(a)).toBe(true);
    expect(queue.cancel(a)).toBe(false);
    expect(a.state).toBe("cancelled");
    expect(a.action).toBeNull();
    expect(queue.size).toBe(2);
    expect(queue.peek()).toBe(b);
    expect(queue.pop()).toBe(b);
    expect(b.state).toBe("fired");
    expect(queue.cancel(b)).toBe(false);
    expect(queue.size).toBe(1);
    expect(drain(queue)).toEqual([c]);
    expect(queue.pop()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  test("cancelling an event of another queue throws", () => {
    const one = new EventQueue();
    const other = new EventQueue();
    const event = one.push(1, noop);
    expect(() => other.cancel(event)).toThrow(/another queue/);
  });

  test("mass cancellation compacts the heap without disturbing the order of the rest", () => {
    const queue = new EventQueue();
    const events = Array.from({ length: 5000 }, (_, i) => queue.push((i * 7919) % 101, noop));
    const kept = events.filter((_, i) => i % 5 === 0);
    for (const [i, e] of events.entries()) if (i % 5 !== 0) queue.cancel(e);
    expect(queue.size).toBe(kept.length);
    const expected = [...kept].sort((x, y) => x.time - y.time || x.seq - y.seq);
    expect(drain(queue)).toEqual(expected);
  });

  test("timers cancelled soon after they are set keep the heap at about twice the live events", () => {
    // A P/D run's lease timers: set far ahead, cancelled almost at once, among a few live events.
    const queue = new EventQueue();
    const live = Array.from({ length: 16 }, (_, i) => queue.push(1000 + i, noop));
    let largest = 0;
    for (let i = 0; i < 5000; i++) {
      queue.cancel(queue.push(30_000_000 + i, noop));
      largest = Math.max(largest, queue.numEntries);
    }
    expect(queue.size).toBe(live.length);
    expect(largest).toBeLessThanOrEqual(live.length + 32);
    expect(drain(queue)).toEqual(live);
  });

  test("any interleaving of pushes, pops and cancels pops the pending minimum each time", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), time: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant("pop" as const) }),
      fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const queue = new EventQueue();
        let model: QueuedEvent[] = [];
        for (const o of ops) {
          if (o.kind === "push") {
            model.push(queue.push(o.time, noop));
          } else if (o.kind === "pop") {
            model.sort((x, y) => x.time - y.time || x.seq - y.seq);
            expect(queue.pop()).toBe(model.shift());
          } else if (model.length > 0) {
            const victim = model[o.pick % model.length] as QueuedEvent;
            queue.cancel(victim);
            model = model.filter((e) => e !== victim);
          }
          expect(queue.size).toBe(model.length);
        }
      }),
      propertyParams,
    );
  });
});
