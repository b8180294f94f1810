// `pdsim check` trusts every perturbed document to be a valid scenario and the unperturbed one
// to replay the scenario as written; a break it reports is only meaningful if both hold.
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type CheckBase,
  type Perturbation,
  checkBase,
  identity,
  perturbations,
  perturbedDoc,
} from "../../src/check/perturb.ts";
import {
  type RequestEntry,
  type ScenarioDoc,
  scenarioOfDoc,
} from "../../src/check/scenario-doc.ts";
import { WatchedRun } from "../../src/check/watched-run.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { propertyParamsWithRuns } from "../support/property.ts";

const RUNS = 60;

const scenarioFile = (name: string): string =>
  fileURLToPath(new URL(`../../scenarios/${name}`, import.meta.url));

function baseOfFile(name: string): CheckBase {
  const path = scenarioFile(name);
  return checkBase(parse(readFileSync(path, "utf8")) as ScenarioDoc, loadScenario(path));
}

function baseOfDoc(doc: ScenarioDoc): CheckBase {
  return checkBase(doc, scenarioOfDoc(doc));
}

const requestsOf = (doc: ScenarioDoc) => (doc.workload as { requests: RequestEntry[] }).requests;

/** The identity with a window of the requests. */
const windowed = (base: CheckBase, start: number, count: number): Perturbation => ({
  ...identity(base),
  window: { start, count },
});

describe("perturbedDoc with the identity perturbation", () => {
  it.each(["pd-mixed.yaml", "prefix-hits.yaml", "pd-load-failure-fail.yaml"])(
    "replays %s with the same request records",
    (name) => {
      const base = baseOfFile(name);
      const doc = perturbedDoc(base, identity(base), "vllm-pr33290");
      const replay = scenarioOfDoc(doc);
      const before = new WatchedRun(base.scenario, base.scenario.seed).run();
      const after = new WatchedRun(replay, replay.seed).run();
      expect(after.error).toBeNull();
      expect(after.records).toHaveLength(before.records.length);
      expect(after.records).toEqual(before.records);
    },
  );

  it("replays a scenario of vllm serve lines, written out as the engine they resolved to", () => {
    const base = baseOfFile("pd-p2p-nccl.yaml");
    const doc = perturbedDoc(base, identity(base), "vllm-pr37460");
    expect(JSON.stringify(doc)).not.toContain("vllm_args");
    const replay = scenarioOfDoc(doc);
    expect(replay.instances.map((i) => i.engine)).toEqual(
      base.scenario.instances.map((i) => i.engine),
    );
    expect(replay.kv_transfer.connector).toBe("p2p_nccl");
    const before = new WatchedRun(base.scenario, base.scenario.seed).run();
    expect(new WatchedRun(replay, replay.seed).run().records).toEqual(before.records);
    // A perturbation of the engine and the connector no longer contradicts a line.
    const tight = perturbedDoc(
      base,
      { ...identity(base), tightCache: true, connector: "nixl" },
      "vllm-pr37460",
    );
    expect(scenarioOfDoc(tight).kv_transfer.connector).toBe("nixl");
  });

  it("reports under the given profile, without the file's expectations", () => {
    const base = baseOfFile("pd-basic.yaml");
    expect(base.doc.expect).toBeDefined();
    const doc = perturbedDoc(base, identity(base), "vllm-pr33290");
    expect(doc).not.toHaveProperty("expect");
    expect(doc.metrics).toEqual({ profile: "vllm-pr33290" });
    expect(doc.name).toBe("pd-basic-perturbed");
    const scenario = scenarioOfDoc(doc);
    expect(scenario.metrics.profile).toBe("vllm-pr33290");
    expect(scenario.expect).toEqual([]);
  });

  it("leaves the base document untouched", () => {
    const base = baseOfFile("pd-basic.yaml");
    const before = structuredClone(base.doc);
    perturbedDoc(base, { ...identity(base), tightCache: true, promptEdge: 1 }, "vllm-pr37460");
    expect(base.doc).toEqual(before);
  });
});

describe("perturbedDoc's window", () => {
  const chain = baseOfDoc({
    name: "chain",
    seed: 1,
    instances: [{ name: "unified-0", role: "unified" }],
    workload: {
      requests: [
        { id: "r1", at_s: 0, prompt_tokens: 20, max_tokens: 2 },
        { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 2 },
        { id: "r3", at_s: 2, prompt_tokens: 30, max_tokens: 2 },
        { id: "r4", at_s: 3, prompt_from: "r2", max_tokens: 2 },
        { id: "r5", at_s: 4, prompt_tokens: 40, max_tokens: 2 },
      ],
    },
  });
  const idsOf = (doc: ScenarioDoc) => requestsOf(doc).map((r) => r.id);

  it("keeps a repeated request that lies before the window", () => {
    const base = baseOfFile("prefix-hits.yaml");
    const doc = perturbedDoc(base, windowed(base, 1, 1), "vllm-pr37460");
    expect(idsOf(doc)).toEqual(["r1", "r2"]);
    expect(() => scenarioOfDoc(doc)).not.toThrow();
  });

  it("follows a chain of repeats back to its first prompt, in file order", () => {
    const doc = perturbedDoc(chain, windowed(chain, 3, 2), "vllm-pr37460");
    expect(idsOf(doc)).toEqual(["r1", "r2", "r4", "r5"]);
    expect(() => scenarioOfDoc(doc)).not.toThrow();
  });

  it("keeps nothing outside the window that the window does not repeat", () => {
    expect(idsOf(perturbedDoc(chain, windowed(chain, 2, 1), "vllm-pr37460"))).toEqual(["r3"]);
    expect(idsOf(perturbedDoc(chain, windowed(chain, 4, 9), "vllm-pr37460"))).toEqual(["r5"]);
  });
});

/** 1P1D whose decode side asks a CPU tier first: connector swaps and block sizes must fit it. */
const TIERED_PD: ScenarioDoc = {
  name: "tiered-pd",
  engine: { block_size: 16, num_gpu_blocks: 600, max_model_len: 512 },
  instances: [
    { name: "prefill-0", role: "prefill" },
    {
      name: "decode-0",
      role: "decode",
      kv_transfer: {
        connector: "multi",
        connectors: [{ connector: "offloading", tier: "cpu" }, { connector: "nixl" }],
      },
    },
  ],
  kv_cache_tiers: [{ name: "cpu", capacity_tokens: 16, chunk_tokens: 16 }],
  workload: {
    requests: [
      { id: "r1", at_s: 0, prompt_tokens: 100, max_tokens: 4 },
      { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 4 },
    ],
  },
};

describe("every drawn perturbation", () => {
  const bases = [
    ...["pd-basic.yaml", "prefix-hits.yaml", "pd-2p4d-round-robin.yaml"].map(
      (name) => [name, baseOfFile(name)] as const,
    ),
    ["a tiered 1P1D", baseOfDoc(TIERED_PD)] as const,
  ];

  /** Checks `check` on `RUNS` perturbations of each base, with the document they stand for. */
  function forEveryPerturbation(
    base: CheckBase,
    check: (p: Perturbation, doc: ScenarioDoc) => void,
  ): void {
    fc.assert(
      fc.property(perturbations(base), (p) => check(p, perturbedDoc(base, p, "vllm-pr37460"))),
      propertyParamsWithRuns(RUNS),
    );
  }

  it.each(bases)("on %s is a scenario the loader accepts", (_name, base) => {
    forEveryPerturbation(base, (_p, doc) => {
      expect(() => scenarioOfDoc(doc)).not.toThrow();
    });
  });

  it.each(bases)(
    "on %s with a tight cache gives every instance ceil(max_model_len / B) + 1 blocks",
    (_name, base) => {
      forEveryPerturbation(base, (p, doc) => {
        if (!p.tightCache) return;
        for (const { name, engine } of scenarioOfDoc(doc).instances) {
          const want = Math.ceil(engine.max_model_len / engine.block_size) + 1;
          expect({ name, blocks: engine.num_gpu_blocks }).toEqual({ name, blocks: want });
        }
      });
    },
  );

  it.each(bases)("on %s with a block size gives it to every instance", (_name, base) => {
    forEveryPerturbation(base, (p, doc) => {
      if (p.blockSize === null) return;
      for (const instance of scenarioOfDoc(doc).instances) {
        expect(instance.engine.block_size).toBe(p.blockSize);
      }
    });
  });

  it.each(bases)("on %s with a prompt edge puts every prompt at k·B + offset", (_name, base) => {
    forEveryPerturbation(base, (p, doc) => {
      if (p.promptEdge === null) return;
      const b = scenarioOfDoc(doc).instances[0]!.engine.block_size;
      for (const r of requestsOf(doc)) {
        if (r.prompt_tokens === undefined) continue;
        const k = (r.prompt_tokens - p.promptEdge) / b;
        expect({ id: r.id, n: r.prompt_tokens, k: Number.isInteger(k) && k >= 1 }).toEqual({
          id: r.id,
          n: r.prompt_tokens,
          k: true,
        });
      }
    });
  });

  it.each(["prefix-hits.yaml", "quickstart.yaml", "chunked-prefill.yaml"])(
    "on %s (no prefill or decode instance) never sets faults or a connector",
    (name) => {
      const base = baseOfFile(name);
      expect(base.scenario.instances.every((i) => i.role === "unified")).toBe(true);
      forEveryPerturbation(base, (p, doc) => {
        expect(p.faults).toBeNull();
        expect(p.connector).toBeNull();
        expect(doc.kv_transfer).toEqual(base.doc.kv_transfer);
        expect(scenarioOfDoc(doc).kv_transfer).toEqual(base.scenario.kv_transfer);
      });
    },
  );

  it("swaps the P/D connector inside a multi list, and keeps the tier's chunks whole blocks", () => {
    const base = baseOfDoc(TIERED_PD);
    const p: Perturbation = { ...identity(base), connector: "p2p_nccl", blockSize: 32 };
    const scenario = scenarioOfDoc(perturbedDoc(base, p, "vllm-pr37460"));
    expect(scenario.instances[1]!.kv_connector!.connectors!.map((c) => c.connector)).toEqual([
      "offloading",
      "p2p_nccl",
    ]);
    expect(scenario.kv_transfer.connector).toBe("p2p_nccl");
    expect(scenario.kv_cache_tiers[0]).toMatchObject({ chunk_tokens: 32, capacity_tokens: 32 });
  });

  it("on a P/D scenario draws faults and the other connector", () => {
    const base = baseOfFile("pd-basic.yaml");
    const drawn = fc.sample(perturbations(base), { seed: 1, numRuns: RUNS });
    expect(drawn.some((p) => p.faults !== null)).toBe(true);
    expect(drawn.some((p) => p.connector === "p2p_nccl")).toBe(true);
  });
});
