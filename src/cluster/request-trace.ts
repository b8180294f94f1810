// Records one request's path through the cluster for `pdsim explain`: what each instance's
// scheduler did with it, the KV transfers, and where each leg ended.

import type { SimTime } from "../../sim/index.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../engine/scheduler-output.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";

export type TraceEvent =
  | {
      kind: "arrived";
      t: SimTime;
      instance: string;
      promptTokens: number;
      maxTokens: number;
      remoteDecode: boolean;
      remotePrefill: boolean;
    }
  | {
      kind: "lookup";
      t: SimTime;
      instance: string;
      numTokens: number;
      blockSize: number;
      localHit: number;
      cappedTokens: number;
      external: number;
      loadAsync: boolean;
    }
  | {
      kind: "computed";
      t: SimTime;
      instance: string;
      from: number;
      tokens: number;
      numPromptTokens: number;
    }
  | { kind: "preempted"; t: SimTime; instance: string }
  | {
      kind: "promoted";
      t: SimTime;
      instance: string;
      numComputedTokens: number;
      numTokens: number;
      failed: boolean;
    }
  | { kind: "transfer"; record: TransferRecord }
  | { kind: "first_token"; t: SimTime; instance: string }
  | {
      kind: "finished";
      t: SimTime;
      instance: string;
      reason: string;
      outputTokens: number;
      decodeSteps: number;
    }
  | { kind: "refused"; t: SimTime; instance: string; error: string };

/** Collects the events of one request id on every instance, in the order they happened. */
export class RequestTrace {
  readonly events: TraceEvent[] = [];
  private readonly decodeSteps = new Map<string, number>();
  private readonly firstTokenSeen = new Set<string>();

  constructor(readonly requestId: string) {}

  arrived(e: Extract<TraceEvent, { kind: "arrived" }>): void {
    this.events.push(e);
  }

  refused(t: SimTime, instance: string, error: string): void {
    this.events.push({ kind: "refused", t, instance, error });
  }

  transfer(record: TransferRecord): void {
    if (record.requestId === this.requestId) this.events.push({ kind: "transfer", record });
  }

  /** One engine step of `instance` (its scheduler output, when it ran one, and its outputs). */
  step(instance: string, schedule: SchedulerOutput | null, outputs: EngineCoreOutputs): void {
    const id = this.requestId;
    const t = outputs.timestamp;
    if (schedule !== null) {
      const at = schedule.timestamp;
      for (const { request } of schedule.preempted)
        if (request.requestId === id) this.events.push({ kind: "preempted", t: at, instance });
      for (const p of schedule.promotions) {
        if (p.request.requestId !== id) continue;
        this.events.push({
          kind: "promoted",
          t: at,
          instance,
          numComputedTokens: p.numComputedTokens,
          numTokens: p.numTokens,
          failed: p.failed,
        });
      }
      for (const a of schedule.admissions) {
        if (a.request.requestId !== id) continue;
        this.events.push({
          kind: "lookup",
          t: at,
          instance,
          numTokens: a.numTokens,
          blockSize: a.request.blockSize,
          localHit: a.localHit,
          cappedTokens: a.cappedTokens,
          external: a.external,
          loadAsync: a.loadAsync,
        });
      }
      for (const s of schedule.scheduled) {
        if (s.request.requestId !== id) continue;
        if (
          this.firstTokenSeen.has(instance) &&
          s.numNewTokens === 1 &&
          s.numComputedBefore >= s.request.numPromptTokens
        ) {
          this.decodeSteps.set(instance, (this.decodeSteps.get(instance) ?? 0) + 1);
        } else {
          this.events.push({
            kind: "computed",
            t: at,
            instance,
            from: s.numComputedBefore,
            tokens: s.numNewTokens,
            numPromptTokens: s.request.numPromptTokens,
          });
        }
      }
    }
    for (const o of outputs.outputs) {
      if (o.requestId !== id) continue;
      if (o.numNewTokens > 0 && !this.firstTokenSeen.has(instance)) {
        this.firstTokenSeen.add(instance);
        this.events.push({ kind: "first_token", t, instance });
      }
    }
  }

  finished(t: SimTime, instance: string, reason: string, outputTokens: number): void {
    this.events.push({
      kind: "finished",
      t,
      instance,
      reason,
      outputTokens,
      decodeSteps: this.decodeSteps.get(instance) ?? 0,
    });
  }
}
