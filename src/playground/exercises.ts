// The guide's exercises whose answer is a number, as the playground asks them: the learner types
// a number, and the page checks it against the run of the exercise's scenario. Each answer is
// read from the run, never written down here, so an exercise stays true when the model changes.

import type { RequestRecord, InstanceLeg } from "../cluster/request-record.ts";
import type { ProfileName } from "../accounting/profiles.ts";
import type { PageResult } from "./page-run.ts";

export interface Exercise {
  id: string;
  /** The guide chapter's file name without `.md`. */
  chapter: string;
  /** The library scenario it runs. */
  scenario: string;
  /** The profile to run it under, when not the scenario's own. */
  profile?: ProfileName;
  question: string;
  unit: string;
  /** Within this fraction of the answer counts as right (answers typed rounded). */
  tolerance: number;
  answer(run: PageResult): number;
}

const request = (run: PageResult, id: string): RequestRecord => {
  const found = run.requests.find((r) => r.id === id);
  if (found === undefined) throw new Error(`the run has no request '${id}'`);
  return found;
};

const leg = (run: PageResult, id: string, instance: string): InstanceLeg => {
  const found = request(run, id).legs.find((l) => l.instance === instance);
  if (found === undefined) throw new Error(`request '${id}' did not visit '${instance}'`);
  return found;
};

const sample = (
  run: PageResult,
  instance: string,
  name: string,
  labels: Record<string, string> = {},
): number =>
  (run.samples[instance] ?? [])
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

const instanceTotal = (run: PageResult, instance: string) => {
  const found = run.summary.instances.find((i) => i.name === instance);
  if (found === undefined) throw new Error(`the run has no instance '${instance}'`);
  return found;
};

export const EXERCISES: readonly Exercise[] = [
  {
    id: "kv-bytes",
    chapter: "01-one-request",
    scenario: "pd-basic",
    question: "How many bytes of KV crossed the link for r1?",
    unit: "bytes",
    tolerance: 0,
    answer: (run) => sample(run, "decode-0", "pdsim:kv_transfer_bytes_total"),
  },
  {
    id: "decode-wait",
    chapter: "01-one-request",
    scenario: "pd-basic",
    question:
      "How long did r1 wait on the decode instance between arriving there and its first step?",
    unit: "µs",
    tolerance: 0.005,
    answer: (run) => {
      const d = leg(run, "r1", "decode-0");
      return (d.first_scheduled_s! - d.arrival_s) * 1e6;
    },
  },
  {
    id: "recompute-truth",
    chapter: "02-sources-and-truth",
    scenario: "pd-load-failure-recompute",
    question: "How many prompt tokens did decode-0 really compute?",
    unit: "tokens",
    tolerance: 0,
    answer: (run) => instanceTotal(run, "decode-0").prompt_tokens_computed,
  },
  {
    id: "recompute-reported",
    chapter: "02-sources-and-truth",
    scenario: "pd-load-failure-recompute",
    question:
      "And how many does current vLLM say decode-0 computed (its local_compute prompt tokens)?",
    unit: "tokens",
    tolerance: 0,
    answer: (run) =>
      sample(run, "decode-0", "vllm:prompt_tokens_by_source_total", { source: "local_compute" }),
  },
  {
    id: "r2-computes",
    chapter: "03-local-prefix-cache",
    scenario: "prefix-hits",
    question: "How many prompt tokens does r2 compute, although r1's blocks are cached?",
    unit: "tokens",
    tolerance: 0,
    answer: (run) => request(run, "r2").legs[0]!.truth!.local_compute,
  },
  {
    id: "r3-computes",
    chapter: "03-local-prefix-cache",
    scenario: "prefix-hits",
    question: "And r3, whose prompt is one token longer than r2's?",
    unit: "tokens",
    tolerance: 0,
    answer: (run) => request(run, "r3").legs[0]!.truth!.local_compute,
  },
  {
    id: "pr33290-sum",
    chapter: "04-what-vllm-reported",
    scenario: "pd-basic",
    profile: "vllm-pr33290",
    question: "Under vllm-pr33290, what do r1's three sources on decode-0 add up to?",
    unit: "tokens",
    tolerance: 0,
    answer: (run) => {
      const reported = leg(run, "r1", "decode-0").reported!["vllm-pr33290"];
      if (reported === undefined || !("local_compute" in reported)) return NaN;
      return reported.local_compute + reported.local_cache_hit + reported.external_kv_transfer;
    },
  },
  {
    id: "dashboard-saved",
    chapter: "05-reading-the-dashboard",
    scenario: "pd-2p4d-round-robin",
    question:
      "On the prefill instances, what fraction of the prompt tokens came from the prefix cache?",
    unit: "%",
    tolerance: 0.002,
    answer: (run) => {
      const prefill = run.summary.instances.filter((i) => i.role === "prefill");
      const cached = prefill.reduce(
        (sum, i) =>
          sum +
          sample(run, i.name, "pdsim:prompt_tokens_by_source_total", {
            source: "local_cache_hit",
          }),
        0,
      );
      const all = prefill.reduce((sum, i) => sum + i.prompt_tokens, 0);
      return (100 * cached) / all;
    },
  },
];

/** A typed answer: digits with optional thousands separators, a decimal point, a sign. */
export function parseAnswer(text: string): number | null {
  const cleaned = text
    .trim()
    .replace(/[,_\s]/g, "")
    .replace(/%$/, "");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) return null;
  return Number(cleaned);
}

/** Right when within the exercise's tolerance of the run's answer (exact for a tolerance of 0). */
export function isRight(exercise: Exercise, typed: number, answer: number): boolean {
  if (exercise.tolerance === 0) return typed === answer;
  return Math.abs(typed - answer) <= exercise.tolerance * Math.abs(answer);
}
