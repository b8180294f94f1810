import { describe, expect, it } from "vitest";
import { Simulation } from "../../sim/index.ts";
import type { KVConnector, MatchedTokens } from "../../src/engine/kv-connector.ts";
import type { Request } from "../../src/engine/request.ts";
import type { SchedulerOutput } from "../../src/engine/scheduler-output.ts";
import { KvCacheTier } from "../../src/kv-offload/kv-cache-tier.ts";
import { LmCacheConnector } from "../../src/kv-offload/lmcache-connector.ts";
import { MultiConnector } from "../../src/kv-offload/multi-connector.ts";
import { OffloadingConnector } from "../../src/kv-offload/offloading-connector.ts";
import { makeRequest, streamTokens } from "../engine/helpers.ts";

const B = 16;
const PATH = { latencyUs: 5, bandwidthBytesPerS: 1e9 };

function setup(chunkTokens: number) {
  const sim = new Simulation();
  const tier = new KvCacheTier(sim, {
    name: "tier",
    capacityChunks: 1000,
    chunkTokens,
    kvBytesPerToken: 100,
    load: PATH,
    store: PATH,
  });
  return { sim, tier };
}

function prompt(id: string, length: number): Request {
  return makeRequest({ id, promptTokenIds: streamTokens(7, 0, length), blockSize: B });
}

/** A step that computed `tokens` of the request from 0. */
function stepOf(request: Request, tokens: number): SchedulerOutput {
  return {
    timestamp: 0,
    scheduled: [{ request, numNewTokens: tokens, numComputedBefore: 0 }],
    totalNumScheduledTokens: tokens,
    preempted: [],
    syncLoadRequestIds: [],
    admissions: [],
    promotions: [],
  };
}

/** Saves what the step computed, as the engine would, and lets the copies finish. */
function save(sim: Simulation, connector: KVConnector, step: SchedulerOutput): void {
  connector.buildConnectorMeta?.(step);
  let ended = false;
  connector.waitForSave!(step, () => (ended = true));
  sim.run();
  expect(ended).toBe(true);
}

describe("OffloadingConnector", () => {
  it("offers whole offloaded blocks past the local hit, loaded asynchronously", () => {
    const { sim, tier } = setup(64);
    const c = new OffloadingConnector(tier, B, () => {});
    save(sim, c, stepOf(prompt("a", 300), 300)); // 4 whole chunks: 256 tokens
    expect(tier.totals.storedTokens).toBe(256);
    const b = prompt("b", 300);
    expect(c.getNumNewMatchedTokens(b, 0)).toMatchObject({
      numExternalTokens: 256,
      loadAsync: true,
    });
    // A local hit of one block: the hit still ends on the chunk boundary.
    expect(c.getNumNewMatchedTokens(b, 16).numExternalTokens).toBe(240);
    // Less than one chunk left to load: nothing.
    expect(c.getNumNewMatchedTokens(b, 208).numExternalTokens).toBe(0);
  });

  it("offers a whole block-aligned prompt in full, leaving the last token to the scheduler", () => {
    const { sim, tier } = setup(64);
    const c = new OffloadingConnector(tier, B, () => {});
    save(sim, c, stepOf(prompt("a", 256), 256));
    expect(c.getNumNewMatchedTokens(prompt("b", 256), 0).numExternalTokens).toBe(256);
  });

  it("does not offer a chunk whose copy has not ended", () => {
    const { tier } = setup(64);
    const c = new OffloadingConnector(tier, B, () => {});
    const step = stepOf(prompt("a", 128), 128);
    c.buildConnectorMeta(step);
    c.waitForSave(step, () => {});
    expect(c.getNumNewMatchedTokens(prompt("b", 128), 0).numExternalTokens).toBe(0);
  });

  it("finishes a preempted request's copies at once, so its re-admission finds them", () => {
    const { tier } = setup(64);
    const c = new OffloadingConnector(tier, B, () => {});
    const a = prompt("a", 200);
    const step = stepOf(a, 128);
    c.buildConnectorMeta(step);
    c.waitForSave(step, () => {});
    c.buildConnectorMeta({
      ...stepOf(a, 0),
      scheduled: [],
      preempted: [{ request: a, numComputedTokens: 128 }],
    });
    expect(c.getNumNewMatchedTokens(a, 0).numExternalTokens).toBe(128);
  });

  it("loads the hit over the tier's load path and reports it finished", () => {
    const { sim, tier } = setup(64);
    let woken = 0;
    const c = new OffloadingConnector(tier, B, () => (woken += 1));
    save(sim, c, stepOf(prompt("a", 200), 200));
    const b = prompt("b", 200);
    const matched = c.getNumNewMatchedTokens(b, 0);
    c.updateStateAfterAlloc(b, [], matched.numExternalTokens);
    expect(c.takeFinished().recving.size).toBe(0);
    sim.run();
    expect(woken).toBe(1);
    expect([...c.takeFinished().recving]).toEqual([["b", null]]);
    expect(tier.totals.loadedTokens).toBe(192);
  });
});

describe("LmCacheConnector", () => {
  it("offers the chunk hit minus the local hit, one token less on a full hit, never below 0", () => {
    const { sim, tier } = setup(256);
    const c = new LmCacheConnector(tier);
    save(sim, c, stepOf(prompt("a", 512), 512));
    const full = prompt("b", 512);
    expect(c.getNumNewMatchedTokens(full, 0)).toMatchObject({
      numExternalTokens: 511,
      loadAsync: false,
    });
    expect(c.getNumNewMatchedTokens(full, 496).numExternalTokens).toBe(15);
    const longer = prompt("c", 700);
    expect(c.getNumNewMatchedTokens(longer, 100).numExternalTokens).toBe(412);
    expect(c.getNumNewMatchedTokens(longer, 600).numExternalTokens).toBe(0);
  });

  it("saves whole prompt chunks only, and no decode tokens", () => {
    const { sim, tier } = setup(256);
    const c = new LmCacheConnector(tier);
    const a = prompt("a", 700);
    c.getNumNewMatchedTokens(a, 0);
    save(sim, c, stepOf(a, 700));
    expect(tier.totals.storedTokens).toBe(512);
    save(sim, c, {
      ...stepOf(a, 1),
      scheduled: [{ request: a, numNewTokens: 1, numComputedBefore: 700 }],
    });
    expect(tier.totals.storedTokens).toBe(512);
  });

  it("holds the step until its loads are in", () => {
    const { sim, tier } = setup(256);
    const c = new LmCacheConnector(tier);
    save(sim, c, stepOf(prompt("a", 512), 512));
    const b = prompt("b", 600);
    const matched = c.getNumNewMatchedTokens(b, 0);
    c.updateStateAfterAlloc(b, [], matched.numExternalTokens);
    let done = false;
    c.waitForLoads(["b"], () => (done = true));
    expect(done).toBe(false);
    sim.run();
    expect(done).toBe(true);
    expect(tier.totals.loadedTokens).toBe(512);
  });
});

describe("MultiConnector", () => {
  /** A child that answers a fixed count and records what it is told after allocation. */
  function child(answer: number) {
    const told: number[] = [];
    const connector: KVConnector = {
      getNumNewMatchedTokens: (): MatchedTokens => ({
        numExternalTokens: answer,
        loadAsync: false,
      }),
      updateStateAfterAlloc: (_r, _b, n) => void told.push(n),
      requestFinished: () => ({ delayFreeBlocks: answer > 0, kvTransferParams: null }),
      takeFinished: () => ({ recving: new Map(), sending: [] }),
    };
    return { connector, told };
  }

  it("loads from the first child with a positive answer and tells the others 0", () => {
    const [a, b, c] = [child(0), child(48), child(96)];
    const multi = new MultiConnector([a.connector, b.connector, c.connector]);
    const request = prompt("r", 200);
    expect(multi.getNumNewMatchedTokens(request, 0).numExternalTokens).toBe(48);
    multi.updateStateAfterAlloc(request, [1, 2, 3], 48);
    expect([a.told, b.told, c.told]).toEqual([[0], [48], [0]]);
  });

  it("holds a finished request's blocks while any child holds them", () => {
    const multi = new MultiConnector([child(0).connector, child(5).connector]);
    expect(multi.requestFinished(prompt("r", 10), []).delayFreeBlocks).toBe(true);
    const none = new MultiConnector([child(0).connector]);
    expect(none.requestFinished(prompt("s", 10), []).delayFreeBlocks).toBe(false);
  });
});

describe("LmCacheConnector's decode phase", () => {
  it("saves nothing more once a step gave the request a single token, as LMCache's tracker", () => {
    const { sim, tier } = setup(256);
    const c = new LmCacheConnector(tier);
    const a = prompt("a", 700);
    c.getNumNewMatchedTokens(a, 0);
    // A chunked prefill whose second step happens to carry one token: LMCache calls it decoding.
    save(sim, c, stepOf(a, 255));
    save(sim, c, {
      ...stepOf(a, 1),
      scheduled: [{ request: a, numNewTokens: 1, numComputedBefore: 255 }],
    });
    save(sim, c, {
      ...stepOf(a, 444),
      scheduled: [{ request: a, numNewTokens: 444, numComputedBefore: 256 }],
    });
    expect(tier.totals.storedTokens).toBe(0);
  });
});

describe("MultiConnector's holds and loads", () => {
  /** A child that holds a finished request's blocks and reports them read when told to. */
  function holdingChild() {
    const sending: string[] = [];
    const connector: KVConnector = {
      getNumNewMatchedTokens: () => ({ numExternalTokens: 0, loadAsync: false }),
      updateStateAfterAlloc: () => {},
      requestFinished: () => ({ delayFreeBlocks: true, kvTransferParams: null }),
      takeFinished: () => ({ recving: new Map(), sending: sending.splice(0) }),
    };
    return { connector, read: (id: string) => sending.push(id) };
  }

  it("frees blocks two children hold only once both have reported them read", () => {
    const [a, b] = [holdingChild(), holdingChild()];
    const multi = new MultiConnector([a.connector, b.connector]);
    expect(multi.requestFinished(prompt("r", 10), [1]).delayFreeBlocks).toBe(true);
    a.read("r");
    expect(multi.takeFinished().sending).toEqual([]);
    b.read("r");
    expect(multi.takeFinished().sending).toEqual(["r"]);
  });

  it("lets a step end when the child that loads has no synchronous loads to wait for", () => {
    const async: KVConnector = {
      getNumNewMatchedTokens: () => ({ numExternalTokens: 32, loadAsync: true }),
      updateStateAfterAlloc: () => {},
      requestFinished: () => ({ delayFreeBlocks: false, kvTransferParams: null }),
      takeFinished: () => ({ recving: new Map(), sending: [] }),
    };
    const multi = new MultiConnector([async]);
    multi.getNumNewMatchedTokens(prompt("r", 64), 0);
    let ended = false;
    multi.waitForLoads(["r"], () => (ended = true));
    expect(ended).toBe(true);
  });

  it("unpins a tier's chunks once the loads through it end", () => {
    const { sim, tier } = setup(64);
    const offload = new OffloadingConnector(tier, B, () => {});
    save(sim, offload, stepOf(prompt("a", 200), 200));
    const b = prompt("b", 200);
    const matched = offload.getNumNewMatchedTokens(b, 0);
    offload.updateStateAfterAlloc(b, [], matched.numExternalTokens);
    expect(tier.inFlight().pinned).toBe(3);
    sim.run();
    expect(tier.inFlight()).toEqual({ storing: 0, pinned: 0 });
  });
});
