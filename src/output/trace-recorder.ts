// DIR/trace.json: the run in Chrome's trace-event format, which Perfetto and chrome://tracing
// load. One process per instance, with its engine steps on one track and each request's leg as
// an async slice (queued, prefill, decode); one process per prefill→decode link, with each KV
// transfer as an async slice. Times are simulated microseconds. Events go to the file as they
// are recorded, a thousand at a time, so a long run does not hold them.

import type { SimTime } from "../../sim/index.ts";
import type { RequestRecord } from "../cluster/request-record.ts";
import type { SchedulerOutput } from "../engine/scheduler-output.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";

/** Past this many events the trace stops growing (a long run would make it unloadable). */
export const TRACE_MAX_EVENTS = 500_000;

const STEP_TRACK = 1;

const EVENTS_PER_CHUNK = 1000;

export class TraceRecorder {
  /** Recorded, not yet written. */
  private events: string[] = [];
  private written = 0;
  private readonly pids = new Map<string, number>();
  private truncatedAt: SimTime | null = null;

  /** Writes the trace through `write`, from the header on; `finish` closes it. */
  constructor(
    private readonly write: (chunk: string) => void,
    instances: readonly string[],
    links: readonly { from: string; to: string }[],
    private readonly maxEvents = TRACE_MAX_EVENTS,
  ) {
    write('{"traceEvents":[\n');
    instances.forEach((name, i) => {
      this.pids.set(name, i + 1);
      this.meta(i + 1, "process_name", { name });
      this.meta(i + 1, "process_sort_index", { sort_index: i + 1 });
      this.events.push(
        JSON.stringify({
          name: "thread_name",
          ph: "M",
          pid: i + 1,
          tid: STEP_TRACK,
          args: { name: "engine steps" },
        }),
      );
    });
    links.forEach((link, i) => {
      const pid = instances.length + i + 1;
      this.pids.set(linkKey(link.from, link.to), pid);
      this.meta(pid, "process_name", { name: `link ${link.from} → ${link.to}` });
      this.meta(pid, "process_sort_index", { sort_index: pid });
    });
  }

  /** An engine step that scheduled tokens, from its start to its end (`now`). */
  step(instance: string, output: SchedulerOutput | null, now: SimTime): void {
    if (this.full || output === null || output.totalNumScheduledTokens === 0) return;
    this.push(now, {
      name: "step",
      cat: "engine",
      ph: "X",
      ts: output.timestamp,
      dur: now - output.timestamp,
      pid: this.pids.get(instance),
      tid: STEP_TRACK,
      args: {
        tokens: output.totalNumScheduledTokens,
        requests: output.scheduled.length,
        preempted: output.preempted.length,
      },
    });
  }

  transfer(record: TransferRecord): void {
    if (this.full) return;
    const pid = this.pids.get(linkKey(record.from, record.to));
    const id = `${record.requestId}:${record.startTime}`;
    const args = { tokens: record.tokens, bytes: record.bytes, outcome: record.outcome };
    this.push(record.endTime, {
      name: record.requestId,
      cat: "transfer",
      ph: "b",
      id,
      ts: record.startTime,
      pid,
      tid: 0,
      args,
    });
    this.push(record.endTime, {
      name: record.requestId,
      cat: "transfer",
      ph: "e",
      id,
      ts: record.endTime,
      pid,
      tid: 0,
    });
  }

  /** Each leg as an async slice from arrival to its last token, split into its phases. */
  requestFinished(record: RequestRecord, now: SimTime): void {
    if (this.full) return;
    for (const leg of record.legs) {
      const pid = this.pids.get(leg.instance);
      const id = `${record.id}@${leg.instance}`;
      const at = (s: number | null) => (s === null ? null : Math.round(s * 1e6));
      const arrival = at(leg.arrival_s)!;
      const scheduled = at(leg.first_scheduled_s);
      const firstToken = at(leg.first_token_s);
      const end = at(leg.last_token_s) ?? scheduled ?? arrival;
      const slice = (name: string, from: number, to: number, args?: object) =>
        this.push(
          now,
          {
            name,
            cat: "request",
            ph: "b",
            id,
            ts: from,
            pid,
            tid: 0,
            ...(args === undefined ? {} : { args }),
          },
          { name, cat: "request", ph: "e", id, ts: to, pid, tid: 0 },
        );
      slice(record.id, arrival, end, {
        prompt_tokens: record.prompt_tokens,
        finish_reason: leg.finish_reason,
        ...(leg.truth === null ? {} : { truth: leg.truth }),
      });
      if (scheduled !== null) slice("queued", arrival, scheduled);
      if (scheduled !== null && firstToken !== null) slice("prefill", scheduled, firstToken);
      if (firstToken !== null && end > firstToken) slice("decode", firstToken, end);
    }
  }

  /** True once the cap was reached: a long run then stops building events it would not keep. */
  private get full(): boolean {
    return this.truncatedAt !== null;
  }

  /** Writes what is left and the closing part of the JSON object. */
  finish(): void {
    this.flush();
    const other = {
      clock: "simulated microseconds",
      ...(this.truncatedAt === null
        ? {}
        : { truncated_at_us: this.truncatedAt, max_events: this.maxEvents }),
    };
    this.write(`\n],"displayTimeUnit":"ms","otherData":${JSON.stringify(other)}}\n`);
  }

  private flush(): void {
    if (this.events.length === 0) return;
    this.write((this.written === 0 ? "" : ",\n") + this.events.join(",\n"));
    this.written += this.events.length;
    this.events = [];
  }

  private meta(pid: number, name: string, args: object): void {
    this.events.push(JSON.stringify({ name, ph: "M", pid, args }));
  }

  /** Appends events together or not at all, so that no slice is left open. */
  private push(now: SimTime, ...events: object[]): void {
    if (this.truncatedAt !== null) return;
    if (this.written + this.events.length + events.length > this.maxEvents) {
      this.truncatedAt = now;
      return;
    }
    for (const event of events) this.events.push(JSON.stringify(event));
    if (this.events.length >= EVENTS_PER_CHUNK) this.flush();
  }
}

function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}
