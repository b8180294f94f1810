// One engine's busy loop on the simulation kernel; mirrors vllm/v1/engine/core.py (EngineCore.step:
// schedule, execute, update_from_output), with the model executor replaced by the step-latency
// model.

import type { Simulation } from "../../sim/index.ts";
import { KVCacheManager } from "./kv-cache-manager.ts";
import type { KVConnector } from "./kv-connector.ts";
import type { Request } from "./request.ts";
import { Scheduler, type SchedulerConfig } from "./scheduler.ts";
import type { EngineCoreOutputs, SchedulerOutput } from "./scheduler-output.ts";
import { type StepTimeModel, stepDuration, stepShape } from "./step-latency.ts";

export interface EngineCoreConfig extends SchedulerConfig {
  blockSize: number;
  numGpuBlocks: number;
  enablePrefixCaching: boolean;
}

/** Called at the end of every step with what it produced (and once when the loop goes idle with work stuck). */
export type StepListener = (
  outputs: EngineCoreOutputs,
  schedulerOutput: SchedulerOutput | null,
) => void;

export class EngineCore {
  readonly scheduler: Scheduler;
  readonly kvCacheManager: KVCacheManager;
  numSteps = 0;
  private running = false;
  private readonly connector: KVConnector | null;

  // The loop's callbacks are made once: a closure per step costs more than the step's own
  // bookkeeping (tsx also names each one with Object.defineProperty; docs/performance.md,
  // change 9). At most one step is in flight, so its output waits in a field.
  private readonly stepNow = (): void => this.step();
  private readonly modelDone = (): void => this.onModelDone();
  private readonly loadsDone = (): void => this.onLoadsDone();
  private readonly stepDone = (): void => this.finishStep();
  private inFlight: SchedulerOutput | null = null;

  constructor(
    private readonly sim: Simulation,
    readonly config: EngineCoreConfig,
    private readonly stepTime: StepTimeModel,
    private readonly onStep: StepListener,
    connector: KVConnector | null = null,
  ) {
    this.connector = connector;
    this.kvCacheManager = new KVCacheManager(
      config.numGpuBlocks,
      config.blockSize,
      config.maxModelLen,
      config.enablePrefixCaching,
    );
    this.scheduler = new Scheduler(config, this.kvCacheManager, connector);
  }

  addRequest(request: Request): void {
    this.scheduler.addRequest(request, this.sim.now);
    this.wake();
  }

  /** Starts the busy loop if it is idle; a step in flight picks new work up when it ends. */
  wake(): void {
    if (this.running) return;
    this.running = true;
    this.sim.schedule(0, this.stepNow);
  }

  private step(): void {
    if (!this.scheduler.hasRequests()) {
      this.running = false;
      return;
    }
    const schedulerOutput = this.scheduler.schedule(this.sim.now);
    if (schedulerOutput.totalNumScheduledTokens === 0) {
      this.onStep(this.scheduler.updateFromOutput(schedulerOutput, this.sim.now), schedulerOutput);
      if (schedulerOutput.preempted.length > 0) {
        // A pass that preempted admits nothing; vLLM's busy loop simply schedules again.
        this.sim.schedule(0, this.stepNow);
        return;
      }
      // Nothing can run until something outside this engine changes (a KV transfer, blocks a
      // remote reader releases, an arrival): sleep until woken.
      this.running = false;
      return;
    }
    this.inFlight = schedulerOutput;
    this.sim.schedule(stepDuration(this.stepTime, stepShape(schedulerOutput)), this.modelDone);
  }

  /** The forward pass is over; a synchronous connector may still be loading KV for it. */
  private onModelDone(): void {
    const loads = this.inFlight!.syncLoadRequestIds;
    if (loads.length > 0 && this.connector?.waitForLoads)
      this.connector.waitForLoads(loads, this.loadsDone);
    else this.onLoadsDone();
  }

  /** The step's KV is all there; a connector that saves may hold the step for its saves. */
  private onLoadsDone(): void {
    if (this.connector?.waitForSave) this.connector.waitForSave(this.inFlight!, this.stepDone);
    else this.finishStep();
  }

  private finishStep(): void {
    const schedulerOutput = this.inFlight!;
    this.inFlight = null;
    const outputs = this.scheduler.updateFromOutput(schedulerOutput, this.sim.now);
    this.numSteps += 1;
    this.onStep(outputs, schedulerOutput);
    this.step();
  }
}
