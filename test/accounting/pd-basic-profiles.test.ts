// scenarios/pd-basic.yaml (one 10-token prompt, prefilled on prefill-0 and pulled by decode-0 over
// NIXL) under each profile reproduces the decode-side numbers each version's formula gives
// (docs/vllm-reference.md#the-five-profiles) for a NIXL decode with c = N − 1 = 9, e = N = 10,
// L = 0; and `--profile all` writes every profile's exposition beside the selected one's.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "../../src/cluster/cluster.ts";
import { PROFILE_NAMES, PROFILES, type ProfileName } from "../../src/accounting/profiles.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { REPO, listFiles, pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";

const PD_BASIC = path.join(REPO, "scenarios/pd-basic.yaml");
const INSTANCES = ["decode-0", "prefill-0"];

/** The sum of the samples of `name` whose labels include `labels`; undefined when none. */
function promValue(text: string, name: string, labels: Record<string, string> = {}) {
  let total: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = match[2] ?? "";
    if (!Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

const bySource = (text: string, source: string) =>
  promValue(text, "vllm:prompt_tokens_by_source_total", { source });

/** What the decode instance's exposition says about the prompt, in the profiles' terms. */
function decodeSide(text: string) {
  return {
    computed: bySource(text, "local_compute"),
    local: bySource(text, "local_cache_hit"),
    external: bySource(text, "external_kv_transfer"),
    cached: promValue(text, "vllm:prompt_tokens_cached_total"),
    recomputed: promValue(text, "vllm:prompt_tokens_recomputed_total"),
    recomputedFamily: text.includes("# TYPE vllm:prompt_tokens_recomputed_total counter"),
    prefillKvComputed: promValue(text, "vllm:request_prefill_kv_computed_tokens_sum"),
    promptTokens: promValue(text, "vllm:prompt_tokens_total"),
  };
}

const EXPECTED: Record<ProfileName, ReturnType<typeof decodeSide>> = {
  "vllm-pre33290": {
    computed: undefined,
    local: undefined,
    external: undefined,
    cached: undefined,
    recomputed: undefined,
    recomputedFamily: false,
    prefillKvComputed: 1,
    promptTokens: 10,
  },
  "vllm-pr33290": {
    computed: 1,
    local: 0,
    external: 10,
    cached: 9,
    recomputed: 1,
    recomputedFamily: true,
    prefillKvComputed: 1,
    promptTokens: 10,
  },
  "vllm-pr37160": {
    computed: 1,
    local: 0,
    external: 10,
    cached: 9,
    recomputed: 1,
    recomputedFamily: true,
    prefillKvComputed: 1,
    promptTokens: 10,
  },
  "vllm-pr38709": {
    computed: 1,
    local: 0,
    external: 10,
    cached: 9,
    recomputed: undefined,
    recomputedFamily: false,
    prefillKvComputed: 1,
    promptTokens: 10,
  },
  "vllm-pr37460": {
    computed: 0,
    local: 0,
    external: 10,
    cached: 10,
    recomputed: undefined,
    recomputedFamily: false,
    prefillKvComputed: 0,
    promptTokens: 10,
  },
};

const DECODE_PROMPT_THROUGHPUT: Record<ProfileName, string> = {
  "vllm-pre33290": "1.0",
  "vllm-pr33290": "0.1",
  "vllm-pr37160": "0.1",
  "vllm-pr38709": "0.1",
  "vllm-pr37460": "0.0",
};

let dir = "";
let out = "";
let status: number | null = null;

beforeAll(async () => {
  dir = scratchDir();
  out = path.join(dir, "out");
  status = (await pdsim("run", PD_BASIC, "--profile", "all", "--quiet", "--out", out)).status;
});
afterAll(() => removeDir(dir));

const read = (...parts: string[]) => fs.readFileSync(path.join(out, "metrics", ...parts), "utf8");

describe("pd-basic under each profile", () => {
  it.each(PROFILE_NAMES)("%s reports the decode-side numbers its formula gives", (profile) => {
    expect(status).toBe(0);
    expect(decodeSide(read(profile, "decode-0.prom"))).toEqual(EXPECTED[profile]);
  });

  it.each(PROFILE_NAMES)(
    "%s exports the same truth beside its vllm: families: 1 computed, 9 transferred, 1 last token recomputed",
    (profile) => {
      const text = read(profile, "decode-0.prom");
      const truth = (source: string) =>
        promValue(text, "pdsim:prompt_tokens_by_source_total", { source });
      expect({
        computed: truth("local_compute"),
        local: truth("local_cache_hit"),
        external: truth("external_kv_transfer"),
        lastToken: promValue(text, "pdsim:prompt_tokens_recomputed_total", {
          reason: "last_token",
        }),
      }).toEqual({ computed: 1, local: 0, external: 9, lastToken: 1 });
    },
  );

  it.each(PROFILE_NAMES)(
    "%s: the decode instance's log line shows the prompt throughput the version counted (all 10 prompt tokens before #33290)",
    (profile) => {
      const scenario = loadScenario(PD_BASIC);
      const lines: string[] = [];
      new Cluster(
        scenario,
        scenario.seed,
        { onLog: (l) => lines.push(`${l.instance} ${l.message}`) },
        [PROFILES[profile]],
      ).run();
      const decode = lines.find((l) => l.startsWith("decode-0 "))!;
      // One 10 s interval: 10 tokens before #33290, the 1 computed token after it, 0 in v4.
      expect(decode).toContain(
        `Avg prompt throughput: ${DECODE_PROMPT_THROUGHPUT[profile]} tokens/s`,
      );
    },
  );
});

describe("--profile all", () => {
  it("writes metrics/<profile>/<instance>.prom for all five profiles, and metrics/<instance>.prom is the selected profile's", () => {
    expect(status).toBe(0);
    const files = listFiles(path.join(out, "metrics"));
    expect(files).toEqual(
      [
        ...INSTANCES.map((i) => `${i}.prom`),
        ...PROFILE_NAMES.flatMap((p) => INSTANCES.map((i) => `${p}/${i}.prom`)),
      ].sort(),
    );
    // pd-basic selects no profile, so current vLLM's is the selected one.
    for (const instance of INSTANCES) {
      expect(read(`${instance}.prom`), instance).toBe(read("vllm-pr37460", `${instance}.prom`));
    }
  });

  it("keeps the scenario's own profile as the selected one", async () => {
    const text = fs.readFileSync(PD_BASIC, "utf8").replace(/^expect:[\s\S]*$/m, "");
    const scenario = writeScenario(dir, "pd-basic-v1.yaml", [
      text,
      "metrics: { profile: vllm-pr33290 }",
    ]);
    const v1 = path.join(dir, "v1");
    expect((await pdsim("run", scenario, "--profile", "all", "--quiet", "--out", v1)).status).toBe(
      0,
    );
    for (const instance of INSTANCES) {
      const selected = fs.readFileSync(path.join(v1, "metrics", `${instance}.prom`), "utf8");
      const own = fs.readFileSync(
        path.join(v1, "metrics", "vllm-pr33290", `${instance}.prom`),
        "utf8",
      );
      expect(selected, instance).toBe(own);
    }
    const summary = JSON.parse(fs.readFileSync(path.join(v1, "summary.json"), "utf8")) as {
      profile: string;
      profiles: string[];
    };
    expect(summary.profile).toBe("vllm-pr33290");
    expect([...summary.profiles].sort()).toEqual([...PROFILE_NAMES].sort());
  });
});
