// The cluster's one seam for observers: every observer sees every event, in the order they were
// added, and `pdsim explain`'s request trace is just one more of them.
import { describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { ClusterObserver } from "../../src/cluster/observer.ts";
import { RequestTrace } from "../../src/cluster/request-trace.ts";
import { PROFILE_LIST } from "../../src/accounting/profiles.ts";
import { scenarioFrom } from "./helpers.ts";

/**
 * 1P1D with failing reads under `fail` (decode legs end in error, prefill holds run out their
 * lease), vllm-pr33290 selected (it refuses increments on those), a prompt the prefill side
 * refuses and one only the decode side refuses, log lines and scrapes.
 */
const EVERY_EVENT = scenarioFrom({
  seed: 7,
  engine: { block_size: 16, num_gpu_blocks: 1024, max_model_len: 4096, log_stats_interval_s: 0.05 },
  instances: [
    { name: "prefill-0", role: "prefill" },
    { name: "decode-0", role: "decode", engine: { max_model_len: 1024 } },
  ],
  kv_transfer: {
    connector: "nixl",
    load_failure_policy: "fail",
    faults: { load_failure_probability: 0.5 },
    lease_s: 0.2,
  },
  workload: {
    requests: [
      ...Array.from({ length: 8 }, (_, i) => ({
        id: `r${i}`,
        at_s: i * 0.01,
        prompt_tokens: 100 + 50 * i,
        max_tokens: 4,
      })),
      { id: "too-long-for-decode", at_s: 0.1, prompt_tokens: 2000, max_tokens: 4 },
      { id: "too-long", at_s: 0.1, prompt_tokens: 5000, max_tokens: 4 },
    ],
  },
  metrics: { profile: "vllm-pr33290", scrape_interval_s: 0.05 },
});

const HOOKS = [
  "onLegArrived",
  "onLegRefused",
  "onEngineStep",
  "onLegFinished",
  "onExporterError",
  "onTransfer",
  "onHoldEnded",
  "onLog",
  "onRequestFinished",
  "onScrape",
] as const satisfies readonly (keyof ClusterObserver)[];

/** An observer of every hook that logs, as `who hook`, each call it gets into `log`. */
function logging(who: string, log: string[]): ClusterObserver {
  return Object.fromEntries(
    HOOKS.map((hook) => [hook, (...args: unknown[]) => log.push(`${who} ${hook} ${key(args)}`)]),
  );
}

/** What tells one event from another: the instance's name, the ids, the times, a step's time. */
function key(args: unknown[]): string {
  return JSON.stringify(args, (_, value: unknown) => {
    if (value !== null && typeof value === "object") {
      if ("engine" in value && "name" in value) return value.name; // an Instance
      if ("outputs" in value && "iterationStats" in value)
        return (value as { outputs: { timestamp: number } }).outputs.timestamp; // an EngineStep
      if ("prompt" in value && "id" in value) return value.id; // a LegRequest
    }
    return value;
  });
}

describe("Cluster observers", () => {
  it("hands every event to each observer, the constructor's first, then in the order observe() added them", () => {
    const log: string[] = [];
    const cluster = new Cluster(EVERY_EVENT, EVERY_EVENT.seed, logging("a", log), PROFILE_LIST);
    cluster.observe(logging("b", log));
    cluster.observe({}); // an observer of nothing is allowed
    cluster.observe(logging("c", log));
    cluster.run();

    expect(log.length % 3).toBe(0);
    const calls = log.length / 3;
    for (let i = 0; i < calls; i++) {
      const [a, b, c] = log.slice(3 * i, 3 * i + 3).map((line) => line.split(" "));
      expect([a![0], b![0], c![0]]).toEqual(["a", "b", "c"]);
      expect(b!.slice(1)).toEqual(a!.slice(1));
      expect(c!.slice(1)).toEqual(a!.slice(1));
    }
    const seen = new Set(log.map((line) => line.split(" ")[1]));
    expect([...seen].sort()).toEqual([...HOOKS].sort());
  });

  it("tells of a leg's finish before the step that ended it, and of the next leg after both", () => {
    const scenario = scenarioFrom({
      seed: 1,
      instances: [
        { name: "prefill-0", role: "prefill" },
        { name: "decode-0", role: "decode" },
      ],
      kv_transfer: { connector: "nixl" },
      workload: { requests: [{ id: "r1", at_s: 0, prompt_tokens: 10, max_tokens: 3 }] },
    });
    const log: string[] = [];
    const cluster = new Cluster(scenario, scenario.seed, {
      onLegArrived: (instance) => log.push(`arrived ${instance.name}`),
      onLegFinished: (instance) => log.push(`finished ${instance.name}`),
      onEngineStep: (instance, step) => {
        if (step.finished.length > 0) log.push(`step ${instance.name}`);
      },
      onRequestFinished: () => log.push("request finished"),
    });
    cluster.run();
    expect(log).toEqual([
      "arrived prefill-0",
      "finished prefill-0",
      "arrived decode-0",
      "step prefill-0",
      "finished decode-0",
      "request finished",
      "step decode-0",
    ]);
  });

  it("takes no observer once the run has started", () => {
    const cluster = new Cluster(EVERY_EVENT, EVERY_EVENT.seed);
    cluster.run();
    expect(() => cluster.observe({})).toThrow(/started/);
  });

  it("starts the scrape timer for an observer that observe() added", () => {
    const scrapes: number[] = [];
    const cluster = new Cluster(EVERY_EVENT, EVERY_EVENT.seed);
    cluster.observe({ onScrape: (time) => scrapes.push(time) });
    cluster.run();
    expect(scrapes[0]).toBe(0);
    expect(scrapes.length).toBeGreaterThan(2);
  });
});

describe("RequestTrace as an observer", () => {
  it("follows its own request through both legs, the finish after the step that ended it", () => {
    const scenario = scenarioFrom({
      seed: 1,
      engine: { block_size: 16, num_gpu_blocks: 1024, max_model_len: 4096 },
      instances: [
        { name: "prefill-0", role: "prefill" },
        { name: "decode-0", role: "decode" },
      ],
      kv_transfer: { connector: "nixl" },
      workload: {
        requests: [
          { id: "r1", at_s: 0, prompt_tokens: 10, max_tokens: 20 },
          { id: "other", at_s: 0, prompt_tokens: 40, max_tokens: 5 },
        ],
      },
    });
    const cluster = new Cluster(scenario, scenario.seed);
    const trace = new RequestTrace("r1");
    cluster.observe(trace);
    cluster.run();
    expect(trace.events.map((e) => `${e.kind}${"instance" in e ? ` ${e.instance}` : ""}`)).toEqual([
      "arrived prefill-0",
      "lookup prefill-0",
      "computed prefill-0",
      "first_token prefill-0",
      "finished prefill-0",
      "arrived decode-0",
      "lookup decode-0",
      "transfer",
      "promoted decode-0",
      "computed decode-0",
      "first_token decode-0",
      "finished decode-0",
    ]);
    expect(trace.events.at(-1)).toMatchObject({ outputTokens: 20, decodeSteps: 19 });
    expect(trace.events.at(4)).toMatchObject({ reason: "length", outputTokens: 1 });
  });

  it("keeps the refusal that follows a finished prefill leg after that leg's step", () => {
    const trace = new RequestTrace("too-long-for-decode");
    const cluster = new Cluster(EVERY_EVENT, EVERY_EVENT.seed);
    cluster.observe(trace);
    cluster.run();
    expect(trace.events.map((e) => e.kind)).toEqual([
      "arrived",
      "lookup",
      "computed",
      "first_token",
      "finished",
      "refused",
    ]);
  });
});
