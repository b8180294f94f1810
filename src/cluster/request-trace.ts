// Records one request's path through the cluster for `pdsim explain`: what each instance's
// scheduler did with it, the KV transfers, and where each leg ended. An observer of the cluster
// that keeps the events of its own request id.

import type { SimTime } from "../../sim/index.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "../engine/scheduler-output.ts";
import type { TransferRecord } from "../kv-transfer/transfer-fabric.ts";
import type { EngineStep, Instance, LegRequest } from "./instance.ts";
import type { ClusterObserver } from "./observer.ts";
import type { InstanceLeg } from "./request-record.ts";

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
      via?: string;
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
export class RequestTrace implements ClusterObserver {
  readonly events: TraceEvent[] = [];
  private readonly decodeSteps = new Map<string, number>();
  private readonly firstTokenSeen = new Set<string>();
  /**
   * An instance reports a step once it has acted on it, so a leg's finish, and whatever came
   * of it (the proxy sends the next leg at once), reach the trace before the step that ended
   * the leg. They wait here until that step's own events are in.
   */
  private finishing: Omit<Extract<TraceEvent, { kind: "finished" }>, "decodeSteps"> | null = null;
  private afterFinish: TraceEvent[] = [];

  constructor(readonly requestId: string) {}

  onLegArrived(instance: Instance, leg: LegRequest, time: SimTime): void {
    if (leg.id !== this.requestId) return;
    this.push({
      kind: "arrived",
      t: time,
      instance: instance.name,
      promptTokens: leg.prompt.length,
      maxTokens: leg.maxTokens,
      remoteDecode: leg.kvTransferParams?.do_remote_decode ?? false,
      remotePrefill: leg.kvTransferParams?.do_remote_prefill ?? false,
    });
  }

  onLegRefused(instance: Instance, leg: LegRequest, error: string, time: SimTime): void {
    if (leg.id !== this.requestId) return;
    this.push({ kind: "refused", t: time, instance: instance.name, error });
  }

  onTransfer(record: TransferRecord): void {
    if (record.requestId === this.requestId) this.push({ kind: "transfer", record });
  }

  onLegFinished(instance: Instance, requestId: string, leg: InstanceLeg, time: SimTime): void {
    if (requestId !== this.requestId) return;
    this.finishing = {
      kind: "finished",
      t: time,
      instance: instance.name,
      reason: leg.finish_reason,
      outputTokens: leg.num_output_tokens,
    };
  }

  onEngineStep(instance: Instance, step: EngineStep): void {
    const name = instance.name;
    const finished = this.finishing?.instance === name ? this.finishing : null;
    if (finished !== null) this.finishing = null;
    this.step(name, step.schedulerOutput, step.outputs);
    if (finished === null) return;
    this.events.push({ ...finished, decodeSteps: this.decodeSteps.get(name) ?? 0 });
    this.events.push(...this.afterFinish);
    this.afterFinish = [];
  }

  private push(event: TraceEvent): void {
    if (this.finishing === null) this.events.push(event);
    else this.afterFinish.push(event);
  }

  /** One engine step of `instance` (its scheduler output, when it ran one, and its outputs). */
  private step(
    instance: string,
    schedule: SchedulerOutput | null,
    outputs: EngineCoreOutputs,
  ): void {
    const id = this.requestId;
    const t = outputs.timestamp;
    if (schedule !== null) {
      const at = schedule.timestamp;
      for (const { request } of schedule.preempted)
        if (request.requestId === id) this.push({ kind: "preempted", t: at, instance });
      for (const p of schedule.promotions) {
        if (p.request.requestId !== id) continue;
        this.push({
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
        this.push({
          kind: "lookup",
          t: at,
          instance,
          numTokens: a.numTokens,
          blockSize: a.request.blockSize,
          localHit: a.localHit,
          cappedTokens: a.cappedTokens,
          external: a.external,
          loadAsync: a.loadAsync,
          ...(a.via === undefined ? {} : { via: a.via }),
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
          this.push({
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
        this.push({ kind: "first_token", t, instance });
      }
    }
  }
}
