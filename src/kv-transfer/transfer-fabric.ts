// The cluster's KV-transfer plane: NIXL-style reads from a prefill instance's held blocks into a
// decode instance, with the prefill side's lease and injected load failures, and P2P-NCCL-style
// pushes from a prefill instance into a decode instance's receive buffer; one link per
// (prefill, decode) pair. Stands in for NIXL agents, NCCL and the network; no bytes are
// modelled beyond their count.

import { type Rng, type SimTime, type Simulation } from "../../sim/index.ts";
import { ChurnMap } from "../util/churn-map.ts";
import { Link } from "./link.ts";

export interface FabricConfig {
  linkLatencyUs: SimTime;
  bandwidthBytesPerS: number;
  kvBytesPerToken: number;
  leaseUs: SimTime;
  loadFailureProbability: number;
  /** Two draws per finished read: whether it failed, and from which block. */
  faults: Rng;
}

export interface ReadSpec {
  requestId: string;
  fromEngine: string;
  remoteRequestId: string;
  toEngine: string;
  /** First prompt token read (a block boundary: the decode side's local hit). */
  firstToken: number;
  numTokens: number;
  numBlocks: number;
  blockSize: number;
  /** Called when the read ends: null if all blocks are valid, else the first invalid token. */
  onDone: (firstInvalidToken: number | null) => void;
}

export type TransferOutcome = "ok" | "load_failed" | "lease_expired";

export interface TransferRecord {
  requestId: string;
  from: string;
  to: string;
  tokens: number;
  bytes: number;
  startTime: SimTime;
  endTime: SimTime;
  outcome: TransferOutcome;
  firstInvalidToken: number | null;
}

export type HoldOutcome = "read" | "lease_expired" | "released_unread";

export interface FabricListener {
  onTransfer?(record: TransferRecord): void;
  onHoldEnded?(engineId: string, requestId: string, outcome: HoldOutcome): void;
}

export interface PushSpec {
  requestId: string;
  fromEngine: string;
  toEngine: string;
  numTokens: number;
}

interface Push {
  arrived: boolean;
  waiters: (() => void)[];
}

interface Hold {
  onRelease: () => void;
  leaseTimer: ReturnType<Simulation["schedule"]>;
  /** Reads in flight from these blocks (almost always one); a lease expiry fails them. */
  readers: (() => void)[];
}

/**
 * Values by engine, then by request id. A key joining the two would be a new string for every
 * lookup, to build and hash, three or four times per transfer.
 */
class ByEngine<T> {
  private readonly byEngine = new Map<string, ChurnMap<string, T>>();
  size = 0;

  get(engineId: string, requestId: string): T | undefined {
    return this.byEngine.get(engineId)?.get(requestId);
  }

  has(engineId: string, requestId: string): boolean {
    return this.byEngine.get(engineId)?.has(requestId) ?? false;
  }

  set(engineId: string, requestId: string, value: T): void {
    let values = this.byEngine.get(engineId);
    if (values === undefined) {
      values = new ChurnMap();
      this.byEngine.set(engineId, values);
    }
    const before = values.size;
    values.set(requestId, value);
    this.size += values.size - before;
  }

  delete(engineId: string, requestId: string): void {
    if (this.byEngine.get(engineId)?.delete(requestId)) this.size -= 1;
  }
}

export class TransferFabric {
  /** By sending engine, then receiving engine. */
  private readonly links = new Map<string, Map<string, Link>>();
  private readonly holds = new ByEngine<Hold>();
  private readonly ports = new Map<string, number>();
  /** Pushed KV by receiving engine and request, until the receiver has loaded it. */
  private readonly pushes = new ByEngine<Push>();

  constructor(
    private readonly sim: Simulation,
    private readonly config: FabricConfig,
    private readonly listener: FabricListener = {},
  ) {}

  /** A made-up side-channel port per engine, so kv_transfer_params look like vLLM's. */
  sidePort(engineId: string): number {
    let port = this.ports.get(engineId);
    if (port === undefined) {
      port = 5600 + this.ports.size;
      this.ports.set(engineId, port);
    }
    return port;
  }

  get numHeld(): number {
    return this.holds.size;
  }

  /** Pushed KV waiting in (or on its way to) a receiver's buffer. */
  get numPushes(): number {
    return this.pushes.size;
  }

  /** The prefill side keeps a finished request's blocks until a read completes or the lease runs out. */
  hold(engineId: string, requestId: string, onRelease: () => void): void {
    if (this.holds.has(engineId, requestId)) {
      throw new Error(`blocks of ${requestId} on ${engineId} are already held`);
    }
    const leaseTimer = this.sim.schedule(this.config.leaseUs, () =>
      this.expire(engineId, requestId),
    );
    this.holds.set(engineId, requestId, { onRelease, leaseTimer, readers: [] });
  }

  /** The reader needs nothing: free the held blocks now. */
  release(engineId: string, requestId: string): void {
    this.endHold(engineId, requestId, "released_unread");
  }

  read(spec: ReadSpec): void {
    const hold = this.holds.get(spec.fromEngine, spec.remoteRequestId);
    const bytes = spec.numTokens * this.config.kvBytesPerToken;
    const record = this.recorder(spec, bytes);
    if (hold === undefined) {
      // The lease ran out before the read began: the remote blocks are gone.
      this.sim.schedule(this.config.linkLatencyUs, () => {
        record("lease_expired", spec.firstToken);
        spec.onDone(spec.firstToken);
      });
      return;
    }
    const link = this.link(spec.fromEngine, spec.toEngine);
    const failOnExpiry = (): void => {
      link.abort(transfer);
      record("lease_expired", spec.firstToken);
      spec.onDone(spec.firstToken);
    };
    hold.readers.push(failOnExpiry);
    const transfer = link.start(bytes, () => {
      const reader = hold.readers.indexOf(failOnExpiry);
      if (reader >= 0) hold.readers.splice(reader, 1);
      const failed = this.config.faults.next() < this.config.loadFailureProbability;
      const fromBlock = this.config.faults.int(0, spec.numBlocks - 1);
      if (failed) {
        // The read completed with errors; no completion notice reaches the prefill side, whose
        // blocks stay held until the lease expires.
        const firstInvalidToken = spec.firstToken + fromBlock * spec.blockSize;
        record("load_failed", firstInvalidToken);
        spec.onDone(firstInvalidToken);
        return;
      }
      record("ok", null);
      this.endHold(spec.fromEngine, spec.remoteRequestId, "read");
      spec.onDone(null);
    });
  }

  /** Sends a request's KV to the decode engine's receive buffer as soon as the prefill is done. */
  push(spec: PushSpec): void {
    if (this.pushes.has(spec.toEngine, spec.requestId))
      throw new Error(`KV of ${spec.requestId} already pushed to ${spec.toEngine}`);
    const push: Push = { arrived: false, waiters: [] };
    this.pushes.set(spec.toEngine, spec.requestId, push);
    const bytes = spec.numTokens * this.config.kvBytesPerToken;
    const record = this.recorder(spec, bytes);
    this.link(spec.fromEngine, spec.toEngine).start(bytes, () => {
      push.arrived = true;
      record("ok", null);
      for (const waiter of push.waiters.splice(0)) waiter();
    });
  }

  /** True while pushed KV for the request is on its way to, or waiting in, the engine's buffer. */
  hasPush(engineId: string, requestId: string): boolean {
    return this.pushes.has(engineId, requestId);
  }

  /**
   * Drops pushed KV the receiver never loaded (its request finished without needing it: a local
   * hit or a KV cache tier supplied the prompt), as vLLM's receiver frees a finished request's
   * buffers; a push still on its way lands in nothing.
   */
  dropPush(engineId: string, requestId: string): void {
    this.pushes.delete(engineId, requestId);
  }

  /** Calls `then` once the pushed KV has arrived, then drops it from the receive buffer. */
  loadPush(engineId: string, requestId: string, then: () => void): void {
    const push = this.pushes.get(engineId, requestId);
    if (push === undefined) throw new Error(`no KV was pushed to ${engineId} for ${requestId}`);
    const done = (): void => {
      this.pushes.delete(engineId, requestId);
      then();
    };
    if (push.arrived) done();
    else push.waiters.push(done);
  }

  /** Reports a transfer that starts now to the listener once it ends, with its outcome. */
  private recorder(
    spec: { requestId: string; fromEngine: string; toEngine: string; numTokens: number },
    bytes: number,
  ): (outcome: TransferOutcome, firstInvalidToken: number | null) => void {
    const startTime = this.sim.now;
    return (outcome, firstInvalidToken) =>
      this.listener.onTransfer?.({
        requestId: spec.requestId,
        from: spec.fromEngine,
        to: spec.toEngine,
        tokens: spec.numTokens,
        bytes,
        startTime,
        endTime: this.sim.now,
        outcome,
        firstInvalidToken,
      });
  }

  private expire(engineId: string, requestId: string): void {
    const hold = this.holds.get(engineId, requestId);
    if (hold === undefined) return;
    for (const fail of [...hold.readers]) fail();
    this.endHold(engineId, requestId, "lease_expired");
  }

  private endHold(engineId: string, requestId: string, outcome: HoldOutcome): void {
    const hold = this.holds.get(engineId, requestId);
    if (hold === undefined) return;
    this.holds.delete(engineId, requestId);
    this.sim.cancel(hold.leaseTimer);
    this.listener.onHoldEnded?.(engineId, requestId, outcome);
    hold.onRelease();
  }

  private link(fromEngine: string, toEngine: string): Link {
    let from = this.links.get(fromEngine);
    if (from === undefined) {
      from = new Map();
      this.links.set(fromEngine, from);
    }
    let link = from.get(toEngine);
    if (link === undefined) {
      link = new Link(this.sim, `${fromEngine}->${toEngine}`, {
        latencyUs: this.config.linkLatencyUs,
        bandwidthBytesPerS: this.config.bandwidthBytesPerS,
      });
      from.set(toEngine, link);
    }
    return link;
  }
}
