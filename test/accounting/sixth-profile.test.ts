// Adding a vLLM version is one row of the profile table plus its formula: a sixth profile that
// exists only in this test runs a P/D scenario beside the five, and its exposition and
// requests.jsonl's `reported` follow its row's fields, while the other profiles' outputs stay
// exactly what they are without it.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  PROFILE_LIST,
  PROFILES,
  type Profile,
  type ProfileInputs,
} from "../../src/accounting/profiles.ts";
import { Cluster } from "../../src/cluster/cluster.ts";
import type { LogLine } from "../../src/cluster/instance.ts";
import type { RequestRecord } from "../../src/cluster/request-record.ts";
import { loadScenario } from "../../src/scenario/index.ts";
import { REPO } from "../e2e/cli.ts";

// Prefill legs, decode legs that load their KV (some of them failing, then computing the rest).
const SCENARIO = loadScenario(path.join(REPO, "scenarios/pd-load-failure-recompute.yaml"));

/**
 * A hypothetical next version: current vLLM's PrefillStats split, and a recomputed counter that
 * counts the last transferred token, which the −1 step computes again.
 */
function sixth(fields: Pick<Profile, "hasSourceSplit" | "exportsRecomputed">): Profile {
  return {
    name: "vllm-test-sixth",
    pullRequest: "a test's own version",
    summary: "as #37460, plus recomputed = [E > 0]",
    ...fields,
    readsPrefillStats: true,
    sourceFormulas: fields.hasSourceSplit ? PROFILES["vllm-pr37460"].sourceFormulas : null,
    formula: (inputs: ProfileInputs) => ({
      ...PROFILES["vllm-pr37460"].formula(inputs),
      recomputed: (inputs.prefillStats?.externalKvTransfer ?? 0) > 0 ? 1 : 0,
    }),
  };
}

interface Outputs {
  cluster: Cluster;
  records: RequestRecord[];
  logLines: LogLine[];
}

function run(profiles: readonly Profile[]): Outputs {
  const records: RequestRecord[] = [];
  const logLines: LogLine[] = [];
  const cluster = new Cluster(
    SCENARIO,
    SCENARIO.seed,
    { onRequestFinished: (r) => records.push(r), onLog: (l) => logLines.push(l) },
    profiles,
  );
  cluster.run();
  return { cluster, records, logLines };
}

/** Every exposition of `profile` in the run, by instance. */
async function expositionsOf(outputs: Outputs, profile: Profile): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const instance of outputs.cluster.instances) {
    const exposition = instance.expositions.find((e) => e.profile === profile)!;
    texts.set(instance.name, exposition.exposition());
  }
  return texts;
}

const legsOn = (outputs: Outputs, instance: string) =>
  outputs.records.flatMap((r) => r.legs.filter((l) => l.instance === instance));

const ROWS = [
  { hasSourceSplit: true, exportsRecomputed: true },
  { hasSourceSplit: true, exportsRecomputed: false },
  { hasSourceSplit: false, exportsRecomputed: false },
];

/** The five profiles, the scenario's own first (the one whose log line the run prints). */
const SELECTED = PROFILES[SCENARIO.metrics.profile];
const OTHERS = PROFILE_LIST.filter((p) => p !== SELECTED);

describe("a sixth profile, added as one row and its formula", () => {
  it.each(ROWS)(
    "registers the families its row names and fills them from its formula (split $hasSourceSplit, recomputed $exportsRecomputed)",
    (fields) => {
      const profile = sixth(fields);
      const outputs = run([profile, ...PROFILE_LIST]);
      const current = PROFILES["vllm-pr37460"];
      let recomputedTotal = 0;
      for (const instance of outputs.cluster.instances) {
        const mine = instance.expositions.find((e) => e.profile === profile)!;
        const theirs = instance.expositions.find((e) => e.profile === current)!;
        const where = instance.name;
        const families = mine.familyNames();
        expect({
          where,
          families: families.filter((f) => f.startsWith("vllm:prompt_tokens")),
        }).toEqual({
          where,
          families: [
            "vllm:prompt_tokens_total",
            ...(fields.hasSourceSplit
              ? ["vllm:prompt_tokens_by_source_total", "vllm:prompt_tokens_cached_total"]
              : []),
            ...(fields.exportsRecomputed ? ["vllm:prompt_tokens_recomputed_total"] : []),
          ],
        });
        // Its total and sources are #37460's; its recomputed counter sums its formula's r.
        const promptSamples = (e: typeof mine) =>
          e
            .samples()
            .filter((s) => s.name.startsWith("vllm:prompt_tokens_") && families.includes(s.name))
            .filter((s) => s.name !== "vllm:prompt_tokens_recomputed_total")
            .map((s) => ({ where, ...s }));
        expect(promptSamples(mine)).toEqual(promptSamples(theirs));
        if (fields.exportsRecomputed) {
          const legs = legsOn(outputs, instance.name);
          const reported = legs.reduce((sum, leg) => {
            const r = leg.reported![profile.name]!;
            return sum + ("recomputed" in r ? r.recomputed! : 0);
          }, 0);
          recomputedTotal += reported;
          expect({
            where,
            recomputed: mine.sampleValue("vllm:prompt_tokens_recomputed_total"),
          }).toEqual({ where, recomputed: reported });
        }
      }
      // The decode legs loaded KV, so the counter moved.
      if (fields.exportsRecomputed) expect(recomputedTotal).toBeGreaterThan(0);
    },
  );

  it.each(ROWS)(
    "reports each leg in requests.jsonl as its row says (split $hasSourceSplit, recomputed $exportsRecomputed)",
    (fields) => {
      const profile = sixth(fields);
      const outputs = run([PROFILES["vllm-pr37460"], profile]);
      for (const leg of outputs.records.flatMap((r) => r.legs)) {
        // Every known version first, in table order, then the sixth.
        expect(Object.keys(leg.reported!)).toEqual([
          ...PROFILE_LIST.map((p) => p.name),
          profile.name,
        ]);
        const keys = fields.hasSourceSplit
          ? [
              "local_compute",
              "local_cache_hit",
              "external_kv_transfer",
              "cached",
              "prompt_tokens",
              ...(fields.exportsRecomputed ? ["recomputed"] : []),
            ]
          : ["prompt_throughput_tokens"];
        expect(Object.keys(leg.reported![profile.name]!)).toEqual(keys);
      }
    },
  );

  it("leaves the five profiles' expositions, records and log lines as they are without it", async () => {
    const profile = sixth({ hasSourceSplit: true, exportsRecomputed: true });
    const alone = run([SELECTED, ...OTHERS]);
    const withSixth = run([SELECTED, profile, ...OTHERS]);
    for (const known of PROFILE_LIST) {
      expect(await expositionsOf(withSixth, known)).toEqual(await expositionsOf(alone, known));
    }
    const withoutSixth = (r: RequestRecord) => ({
      ...r,
      legs: r.legs.map((l) => {
        if (l.reported === null) return l;
        const known = Object.entries(l.reported).filter(([name]) => name !== profile.name);
        return { ...l, reported: Object.fromEntries(known) };
      }),
    });
    expect(withSixth.records.map(withoutSixth)).toEqual(alone.records);
    expect(withSixth.logLines).toEqual(alone.logLines);
  });

  it("drives the log line when it is the selected profile", () => {
    // Its log line counts what #37460's counts: the formula's logPromptTokens.
    const selected = run([sixth({ hasSourceSplit: true, exportsRecomputed: true })]);
    const current = run([PROFILES["vllm-pr37460"]]);
    expect(selected.logLines.length).toBeGreaterThan(0);
    expect(selected.logLines).toEqual(current.logLines);
  });
});
