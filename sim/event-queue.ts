// A binary min-heap of scheduled actions, totally ordered by (time, insertion sequence).

import type { SimTime } from "./time.ts";

export type EventState = "pending" | "fired" | "cancelled";

/** One scheduled action; the record is the only allocation a push makes. */
export class QueuedEvent {
  readonly time: SimTime;
  /** Breaks ties between equal times, so the pop order never depends on heap layout. */
  readonly seq: number;
  /** Dropped once the event fires or is cancelled, so a kept handle does not pin its closure. */
  action: (() => void) | null;
  state: EventState = "pending";
  /** The queue that owns this event, so a handle cannot be cancelled on the wrong queue. */
  readonly queue: EventQueue;
  /** A periodic timer's tick (see Simulation.scheduleDaemon): it keeps no run alive. */
  readonly daemon: boolean;

  constructor(time: SimTime, seq: number, action: () => void, queue: EventQueue, daemon: boolean) {
    this.time = time;
    this.seq = seq;
    this.action = action;
    this.queue = queue;
    this.daemon = daemon;
  }
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * Below this many cancelled entries the heap is never compacted: rebuilding a tiny heap would
 * cost more than the dead entries do.
 */
const MIN_DEAD_TO_COMPACT = 32;

/**
 * Cancellation is lazy: a cancelled event stays in the heap until it reaches the top and is
 * discarded, which keeps cancel O(1) amortized. When cancelled entries outnumber live ones the
 * heap is rebuilt in place, so a workload that cancels most of what it schedules (timeouts)
 * keeps a heap at most about twice its live events. A P/D run is such a workload: every
 * prefill leg's lease timer is cancelled within milliseconds of its 30 s, so with a high floor
 * the heap would be mostly dead entries, and every push and pop would sift through more levels
 * (docs/performance.md, change 26).
 */
export class EventQueue {
  private readonly heap: QueuedEvent[] = [];
  private nextSeq = 0;
  private live = 0;

  /** Number of pending (not cancelled) events. */
  get size(): number {
    return this.live;
  }

  /** Entries in the heap, cancelled ones not yet dropped included: what compaction bounds. */
  get numEntries(): number {
    return this.heap.length;
  }

  push(time: SimTime, action: () => void, daemon = false): QueuedEvent {
    const event = new QueuedEvent(time, this.nextSeq++, action, this, daemon);
    this.heap.push(event);
    this.siftUp(event, this.heap.length - 1);
    this.live++;
    return event;
  }

  /** The next pending event, without removing it. */
  peek(): QueuedEvent | undefined {
    this.discardCancelledTop();
    return this.heap[0];
  }

  /** Removes and returns the next pending event, marking it fired. */
  pop(): QueuedEvent | undefined {
    this.discardCancelledTop();
    if (this.heap.length === 0) return undefined;
    const event = this.removeTop();
    event.state = "fired";
    this.live--;
    return event;
  }

  /** Returns true if the event was pending; cancelling a fired or cancelled event does nothing. */
  cancel(event: QueuedEvent): boolean {
    if (event.queue !== this)
      throw new Error("EventQueue.cancel: the event belongs to another queue");
    if (event.state !== "pending") return false;
    event.state = "cancelled";
    event.action = null;
    this.live--;
    const dead = this.heap.length - this.live;
    if (dead >= MIN_DEAD_TO_COMPACT && dead > this.live) this.compact();
    return true;
  }

  private discardCancelledTop(): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0] as QueuedEvent).state === "cancelled") this.removeTop();
  }

  private removeTop(): QueuedEvent {
    const heap = this.heap;
    const top = heap[0] as QueuedEvent;
    const last = heap.pop() as QueuedEvent;
    if (heap.length > 0) this.siftDown(last, 0);
    return top;
  }

  /** Moves `event` up from the hole at `i`, shifting parents down instead of swapping. */
  private siftUp(event: QueuedEvent, i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parentIndex = (i - 1) >>> 1;
      const parent = heap[parentIndex] as QueuedEvent;
      if (!before(event, parent)) break;
      heap[i] = parent;
      i = parentIndex;
    }
    heap[i] = event;
  }

  /** Moves `event` down from the hole at `i`, shifting the smaller child up each level. */
  private siftDown(event: QueuedEvent, i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const firstLeaf = n >>> 1;
    while (i < firstLeaf) {
      let childIndex = 2 * i + 1;
      let child = heap[childIndex] as QueuedEvent;
      const rightIndex = childIndex + 1;
      if (rightIndex < n) {
        const right = heap[rightIndex] as QueuedEvent;
        if (before(right, child)) {
          childIndex = rightIndex;
          child = right;
        }
      }
      if (!before(child, event)) break;
      heap[i] = child;
      i = childIndex;
    }
    heap[i] = event;
  }

  /** Drops cancelled entries and re-heapifies; the total order makes the result unambiguous. */
  private compact(): void {
    const heap = this.heap;
    let kept = 0;
    for (let i = 0; i < heap.length; i++) {
      const event = heap[i] as QueuedEvent;
      if (event.state !== "cancelled") heap[kept++] = event;
    }
    heap.length = kept;
    for (let i = (kept >>> 1) - 1; i >= 0; i--) this.siftDown(heap[i] as QueuedEvent, i);
  }
}
