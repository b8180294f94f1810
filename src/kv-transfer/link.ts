// A network path between two instances (the NIC/RDMA path a NIXL read crosses from a prefill
// instance's GPU memory to a decode instance's) as a fixed latency followed by a fair,
// processor-sharing split of one bandwidth; it leaves out packets, congestion control, per-flow
// rate caps, multi-hop topologies and the copies on either end.

import { type EventHandle, type SimTime, type Simulation, US_PER_S } from "../../sim/index.ts";

export interface LinkConfig {
  /** Fixed delay before a transfer's first byte moves (request, RDMA handshake, propagation). */
  latencyUs: SimTime;
  bandwidthBytesPerS: number;
}

export interface TransferTiming {
  startTime: SimTime;
  endTime: SimTime;
  bytes: number;
}

export interface LinkTransfer {
  readonly id: number;
  readonly bytes: number;
  readonly startTime: SimTime;
}

export interface LinkTotals {
  started: number;
  completed: number;
  aborted: number;
  bytesDelivered: number;
}

/**
 * Link time, in microseconds, that float noise may add to a completion before it is rounded up:
 * a remainder worth less than this is delivered in the same event, so a transfer due at an exact
 * microsecond is never pushed to the next one.
 */
const COMPLETION_SLACK_US = 1e-6;

/** A transfer's bookkeeping; callers see it only as a `LinkTransfer`. */
class Flow implements LinkTransfer {
  /** Bytes still to move once in the byte phase; 0 with `delivered` once the fluid model is done. */
  remaining: number;
  delivered = false;

  constructor(
    readonly link: Link,
    readonly id: number,
    readonly bytes: number,
    readonly startTime: SimTime,
    readonly bytePhaseStart: SimTime,
    readonly onDone: (timing: TransferTiming) => void,
  ) {
    this.remaining = bytes;
  }
}

/**
 * The byte phase is an exact fluid model kept between events: `advance` moves every sharing flow
 * forward from `lastUpdate` to now, finishing flows at fractional instants on the way and handing
 * their share to the rest at once. Only the reported completion is rounded, up, to the
 * microsecond, so rounding delays a transfer's callback but never takes bandwidth from the others.
 *
 *   latency phase (`waiting`)        byte phase (`sending`)
 *   | start ... start + latencyUs |  each sharing flow moves at bandwidth / k  | onDone
 *
 * At most one kernel event is pending: the earliest of the next latency end and the next
 * completion. Every firing moves a flow out of its latency phase or completes one, so n
 * transfers cost at most 2n events.
 */
export class Link {
  private readonly bytesPerUs: number;
  private readonly latencyUs: SimTime;
  // Plain lists rather than maps keyed by id: they hold a handful of flows and are often empty,
  // and a V8 Map that keeps emptying and refilling reallocates its table again and again.
  /** In the latency phase, in start order (which is also byte-phase start order). */
  private readonly waiting: Flow[] = [];
  /** In the byte phase, in start order. */
  private readonly sending: Flow[] = [];
  private lastUpdate: SimTime;
  private pending: EventHandle | null = null;
  private nextId = 0;
  private readonly counts: LinkTotals = { started: 0, completed: 0, aborted: 0, bytesDelivered: 0 };

  constructor(
    private readonly sim: Simulation,
    readonly name: string,
    config: LinkConfig,
  ) {
    const { latencyUs, bandwidthBytesPerS } = config;
    if (!Number.isSafeInteger(latencyUs) || latencyUs < 0) {
      throw new Error(
        `Link ${name}: latencyUs must be a non-negative integer number of microseconds, got ${latencyUs}`,
      );
    }
    if (!Number.isFinite(bandwidthBytesPerS) || bandwidthBytesPerS <= 0) {
      throw new Error(
        `Link ${name}: bandwidthBytesPerS must be a finite number > 0, got ${bandwidthBytesPerS}`,
      );
    }
    this.latencyUs = latencyUs;
    this.bytesPerUs = bandwidthBytesPerS / US_PER_S;
    this.lastUpdate = sim.now;
  }

  /** Transfers in their latency or byte phase whose onDone has not run. */
  get activeTransfers(): number {
    return this.waiting.length + this.sending.length;
  }

  /** A snapshot; later transfers do not change an object already returned. */
  get totals(): Readonly<LinkTotals> {
    return { ...this.counts };
  }

  /**
   * Moves `bytes` (≥ 0): after the fixed latency, the bytes share the link's bandwidth fairly
   * (processor sharing) with every other transfer in its byte phase; `onDone` runs at completion.
   */
  start(bytes: number, onDone: (timing: TransferTiming) => void): LinkTransfer {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new Error(`Link ${this.name}: bytes must be a finite number >= 0, got ${bytes}`);
    }
    if (typeof onDone !== "function") {
      throw new Error(`Link ${this.name}: onDone must be a function, got ${typeof onDone}`);
    }
    this.advance();
    const now = this.sim.now;
    const flow = new Flow(this, this.nextId++, bytes, now, now + this.latencyUs, onDone);
    this.waiting.push(flow);
    this.counts.started++;
    this.reschedule();
    return flow;
  }

  /**
   * Stops a transfer in flight (its onDone never runs); the others speed up at once. Aborting a
   * finished or aborted transfer is a no-op, including one that finished at this instant and whose
   * onDone has yet to run.
   */
  abort(transfer: LinkTransfer): void {
    if (!(transfer instanceof Flow) || transfer.link !== this) {
      throw new Error(`Link ${this.name}: transfer ${transfer.id} was not started on this link`);
    }
    let list = this.waiting;
    let index = list.indexOf(transfer);
    if (index < 0) {
      list = this.sending;
      index = list.indexOf(transfer);
    }
    if (index < 0) return;
    this.advance();
    list.splice(index, 1);
    this.counts.aborted++;
    this.reschedule();
  }

  /** Runs the fluid model from `lastUpdate` to now, marking the flows that finish on the way. */
  private advance(): void {
    const to = this.sim.now;
    let t: number = this.lastUpdate;
    this.lastUpdate = to;
    for (;;) {
      const { sharing, smallest } = this.sharingState();
      if (sharing === 0) return;
      const need = this.drainTime(smallest, sharing);
      if (t + need > to + COMPLETION_SLACK_US) {
        // Nobody finishes by `to` (so `moved` < `smallest`, barring float noise).
        if (to > t) this.moveAll(((to - t) * this.bytesPerUs) / sharing);
        return;
      }
      // The smallest flow, and any tied with it, finishes at t + need.
      this.moveAll(smallest);
      t += need;
    }
  }

  /** Takes `bytes` off every sharing flow; a flow left with nothing is delivered. */
  private moveAll(bytes: number): void {
    for (const flow of this.sending) {
      if (flow.delivered) continue;
      flow.remaining -= bytes;
      if (flow.remaining <= 0) {
        flow.remaining = 0;
        flow.delivered = true;
      }
    }
  }

  private sharingState(): { sharing: number; smallest: number } {
    let sharing = 0;
    let smallest = Infinity;
    for (const flow of this.sending) {
      if (flow.delivered) continue;
      sharing++;
      if (flow.remaining < smallest) smallest = flow.remaining;
    }
    return { sharing, smallest };
  }

  /** Microseconds until `bytes` are through when `sharing` flows split the bandwidth. */
  private drainTime(bytes: number, sharing: number): number {
    return (bytes * sharing) / this.bytesPerUs;
  }

  /** The link's next event: a flow leaving its latency phase or the next completion. */
  private nextEventTime(): SimTime | null {
    const now = this.sim.now;
    let next = this.waiting.length > 0 ? this.waiting[0]!.bytePhaseStart : Infinity;
    for (const flow of this.sending) if (flow.delivered) return now;
    const { sharing, smallest } = this.sharingState();
    if (sharing > 0) {
      // At least 1 µs, so that a remainder just above the slack cannot schedule a zero delay;
      // `advance` finishes the flow at that time because need <= delay + slack.
      const delay = Math.max(1, Math.ceil(this.drainTime(smallest, sharing) - COMPLETION_SLACK_US));
      next = Math.min(next, now + delay);
    }
    return next === Infinity ? null : next;
  }

  /** Keeps exactly one kernel event pending for the next change, or none when idle. */
  private reschedule(): void {
    const next = this.nextEventTime();
    if (this.pending !== null) {
      if (this.pending.time === next) return;
      this.sim.cancel(this.pending);
      this.pending = null;
    }
    if (next === null) return;
    this.pending = this.sim.scheduleAt(next, () => {
      this.pending = null;
      this.onEvent();
    });
  }

  private onEvent(): void {
    this.advance();
    const now = this.sim.now;
    const waiting = this.waiting;
    let started = 0;
    while (started < waiting.length && waiting[started]!.bytePhaseStart <= now) {
      const flow = waiting[started++]!;
      flow.delivered = flow.bytes === 0;
      this.sending.push(flow);
    }
    if (started > 0) waiting.splice(0, started);
    const sending = this.sending;
    const finished: Flow[] = [];
    let kept = 0;
    for (const flow of sending) {
      if (!flow.delivered) {
        sending[kept++] = flow;
        continue;
      }
      this.counts.completed++;
      this.counts.bytesDelivered += flow.bytes;
      finished.push(flow);
    }
    sending.length = kept;
    // The link is consistent before any callback runs, so a callback may start or abort freely.
    this.reschedule();
    for (const flow of finished) {
      flow.onDone({ startTime: flow.startTime, endTime: now, bytes: flow.bytes });
    }
  }
}
