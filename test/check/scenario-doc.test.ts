// Scenario documents are what `pdsim check` perturbs and prints as counterexamples: an explicit
// workload must replay the generated one exactly, a description must read the same in every
// report, and the YAML written out must load back as the scenario that broke.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type ScenarioDoc,
  describeScenario,
  docToYaml,
  explicitRequests,
  scenarioOfDoc,
} from "../../src/check/scenario-doc.ts";
import { WatchedRun } from "../../src/check/watched-run.ts";
import { loadScenario, parseScenario } from "../../src/scenario/index.ts";

const scenarioFile = (name: string): string =>
  fileURLToPath(new URL(`../../scenarios/${name}`, import.meta.url));

const docOfFile = (path: string): ScenarioDoc => parse(readFileSync(path, "utf8")) as ScenarioDoc;

/** Source lines differ between a file and the YAML written from its document; nothing else may. */
function withoutLines(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLines);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "line")
      .map(([key, v]) => [key, withoutLines(v)]),
  );
}

const r1 = { id: "r1", at_s: 0, prompt_tokens: 1, max_tokens: 1 };

/** A small document over block size 4; `rest` replaces whole sections. */
function smallDoc(rest: ScenarioDoc): ScenarioDoc {
  return {
    name: "small",
    seed: 1,
    engine: { block_size: 4, num_gpu_blocks: 64, max_model_len: 64 },
    instances: [{ name: "unified-0", role: "unified" }],
    workload: { requests: [r1] },
    ...rest,
  };
}

const pd = [
  { name: "prefill-0", role: "prefill" },
  { name: "decode-0", role: "decode" },
];

describe("explicitRequests", () => {
  it.each(["quickstart.yaml", "pd-mixed.yaml"])(
    "replays %s's generated workload with identical request records",
    (name) => {
      const path = scenarioFile(name);
      const generated = loadScenario(path);
      expect(generated.workload.kind).toBe("generated");
      const doc = { ...docOfFile(path), workload: { requests: explicitRequests(generated) } };
      const explicit = scenarioOfDoc(doc, path);
      expect(explicit.workload.kind).toBe("explicit");

      const before = new WatchedRun(generated, generated.seed).run();
      const after = new WatchedRun(explicit, explicit.seed).run();
      expect(before.error).toBeNull();
      expect(after.error).toBeNull();
      expect(after.records).toHaveLength(before.records.length);
      expect(after.records).toEqual(before.records);
    },
  );

  it("gives an explicit workload's entries back as written, without their line", () => {
    const path = scenarioFile("prefix-hits.yaml");
    const entries = explicitRequests(loadScenario(path));
    expect(entries.some((e) => "line" in e)).toBe(false);
    const written = (docOfFile(path).workload as { requests: unknown[] }).requests;
    expect(entries).toStrictEqual(written);
  });
});

describe("describeScenario", () => {
  const describeDoc = (doc: ScenarioDoc) => describeScenario(scenarioOfDoc(doc));

  it("names a single unified instance, the block size and each prompt length", () => {
    expect(describeDoc(smallDoc({}))).toBe("unified, B=4: 1 request (N=1)");
  });

  it("names a P/D pair with its connector and its load failures", () => {
    const doc = smallDoc({
      instances: pd,
      kv_transfer: { load_failure_policy: "fail", faults: { load_failure_probability: 1 } },
    });
    expect(describeDoc(doc)).toBe("1P1D nixl, load failures p=1 fail, B=4: 1 request (N=1)");
  });

  it("leaves out load failures that never happen", () => {
    const doc = smallDoc({ instances: pd, kv_transfer: { connector: "p2p_nccl" } });
    expect(describeDoc(doc)).toBe("1P1D p2p_nccl, B=4: 1 request (N=1)");
  });

  it("gives a repeat the length of the prompt it repeats", () => {
    const doc = smallDoc({
      workload: {
        requests: [
          { id: "r1", at_s: 0, prompt_tokens: 5, max_tokens: 1 },
          { id: "r2", at_s: 1, prompt_from: "r1", max_tokens: 1 },
          { id: "r3", at_s: 2, prompt_from: "r2", max_tokens: 1 },
        ],
      },
    });
    expect(describeDoc(doc)).toBe(
      "unified, B=4: 3 requests (N=5; N=5 repeating r1; N=5 repeating r2)",
    );
  });

  it("names a shared prefix's length and group", () => {
    const doc = smallDoc({
      workload: {
        requests: [
          {
            id: "r1",
            at_s: 0,
            prompt_tokens: 12,
            prefix: { group: "a", tokens: 8 },
            max_tokens: 1,
          },
        ],
      },
    });
    expect(describeDoc(doc)).toBe("unified, B=4: 1 request (N=12 with 8 from a)");
  });

  it("counts instances of each role", () => {
    const doc = smallDoc({
      instances: [
        { name: "prefill-0", role: "prefill" },
        { name: "prefill-1", role: "prefill" },
        { name: "decode-0", role: "decode" },
        { name: "decode-1", role: "decode" },
      ],
      kv_transfer: {
        load_failure_policy: "recompute",
        faults: { load_failure_probability: 0.5 },
      },
    });
    expect(describeDoc(doc)).toBe("2P2D nixl, load failures p=0.5 recompute, B=4: 1 request (N=1)");
  });

  it("names a mixed cluster's P/D part first, then its unified instances", () => {
    const doc = smallDoc({ instances: [{ name: "unified-0", role: "unified" }, ...pd] });
    expect(describeDoc(doc)).toBe("1P1D + unified nixl, B=4: 1 request (N=1)");
  });

  it("lists every block size of a cluster whose instances differ", () => {
    const doc = smallDoc({
      instances: [
        { name: "unified-0", role: "unified" },
        { name: "unified-1", role: "unified", engine: { block_size: 8 } },
      ],
    });
    expect(describeDoc(doc)).toBe("2 unified, B=4/8: 1 request (N=1)");
  });

  it("says a generated workload is generated rather than listing its requests", () => {
    expect(describeScenario(loadScenario(scenarioFile("quickstart.yaml")))).toBe(
      "unified, B=16: generated workload",
    );
    expect(describeScenario(loadScenario(scenarioFile("pd-mixed.yaml")))).toBe(
      "1P1D + unified nixl, B=16: generated workload",
    );
  });
});

describe("docToYaml", () => {
  it.each(["pd-basic.yaml", "prefix-hits.yaml", "quickstart.yaml", "pd-mixed.yaml"])(
    "writes %s's document as YAML that loads as the file itself",
    (name) => {
      const path = scenarioFile(name);
      const doc = docOfFile(path);
      expect(parse(docToYaml(doc))).toStrictEqual(doc);
      expect(withoutLines(scenarioOfDoc(doc, path))).toEqual(withoutLines(loadScenario(path)));
    },
  );

  it("quotes strings YAML would otherwise read as numbers or booleans", () => {
    const doc = smallDoc({
      name: "yes",
      description: "a: b # not a comment, 'quoted' and \"double\"",
      workload: {
        requests: [
          { id: "007", at_s: 0, prompt_tokens: 3, max_tokens: 1 },
          { id: "1e3", at_s: 0.5, prompt_from: "007", max_tokens: 1 },
        ],
      },
    });
    const yaml = docToYaml(doc);
    expect(parse(yaml)).toStrictEqual(doc);
    const scenario = scenarioOfDoc(doc);
    expect(scenario.name).toBe("yes");
    expect(scenario.description).toBe(doc.description);
    expect(explicitRequests(scenario)).toEqual([
      { id: "007", at_s: 0, prompt_tokens: 3, max_tokens: 1 },
      { id: "1e3", at_s: 0.5, prompt_from: "007", max_tokens: 1 },
    ]);
  });

  it("loads a document with every section through scenarioOfDoc as the same scenario", () => {
    const doc = smallDoc({
      description: "Every section set, nested mappings and lists included.",
      model: { name: "m", step_time: { base_ms: 2 } },
      instances: [{ name: "unified-0", role: "unified", engine: { max_num_seqs: 4 } }, ...pd],
      kv_transfer: {
        connector: "p2p_nccl",
        link: { latency_ms: 0.5, bandwidth_gb_per_s: 25 },
        load_failure_policy: "recompute",
        faults: { load_failure_probability: 0.5 },
        lease_s: 0.002,
      },
      proxy: { pd_min_prompt_tokens: 24 },
      metrics: { profile: "vllm-pr33290" },
      expect: [{ instance: "decode-0", metric: "vllm:prompt_tokens_total", min: 1 }],
    });
    const yaml = docToYaml(doc);
    expect(parse(yaml)).toStrictEqual(doc);
    expect(scenarioOfDoc(parse(yaml) as ScenarioDoc)).toEqual(scenarioOfDoc(doc));
    // JSON is YAML too: a serialisation docToYaml had no hand in.
    expect(withoutLines(scenarioOfDoc(doc))).toEqual(
      withoutLines(parseScenario(JSON.stringify(doc), "counterexample.yaml")),
    );
  });
});
