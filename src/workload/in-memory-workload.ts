// Turns a scenario's workload section into client requests in arrival order, lazily, so that a
// million-request run never holds more than the requests in flight: every kind that needs no
// file (generated, explicit, sessions). This much runs in a browser; workload.ts adds traces.

import {
  type Rng,
  type RngStreams,
  type Sampler,
  makeSampler,
  secondsToUs,
} from "../../sim/index.ts";
import type {
  ExplicitWorkloadConfig,
  GeneratedWorkloadConfig,
  WorkloadConfig,
} from "../scenario/types.ts";
import type { ClientRequest, WorkloadSource } from "./client-request.ts";
import type { Prompt } from "../engine/prompt.ts";
import { promptMaker, type SharedPrefix } from "./prompts.ts";
import { sessionsSource } from "./sessions.ts";

/** What the rest of the scenario allows a replay (a trace's, in workload.ts). */
export interface ReplayLimits {
  /**
   * The shortest period of the timers that tick while requests arrive (log lines, scrapes);
   * the loader's limit on intervals applies to a trace once its span is known.
   */
  shortestTimerS: number;
}

/** Opens a scenario's workload: the cluster is handed one, so that its users choose the kinds. */
export type WorkloadOpener = (
  workload: WorkloadConfig,
  rng: RngStreams,
  limits?: ReplayLimits,
) => WorkloadSource;

/** Thrown for a workload kind that this opener cannot open (a trace, in a browser). */
export class WorkloadKindUnavailable extends Error {}

export const inMemoryWorkloadSource: WorkloadOpener = (workload, rng) => {
  switch (workload.kind) {
    case "generated":
      return generatedSource(workload, rng.derive("workload"));
    case "explicit":
      return explicitSource(workload);
    case "trace":
      throw new WorkloadKindUnavailable(
        `a trace workload reads its file '${workload.file}' from disk: run this scenario with the pdsim CLI`,
      );
    case "sessions":
      return sessionsSource(workload, rng.derive("sessions"));
  }
};

function generatedSource(w: GeneratedWorkloadConfig, rng: RngStreams): WorkloadSource {
  const arrival = w.arrival;
  const interArrival: Sampler =
    arrival.process === "poisson"
      ? makeSampler({ dist: "exponential", mean: 1 / arrival.rate_per_s })
      : makeSampler({ dist: "constant", value: arrival.interval_s });
  const promptLen = tokenCount(makeSampler(w.prompt_tokens));
  const maxTokens = tokenCount(makeSampler(w.max_tokens));
  const outputLen = w.output_tokens === undefined ? null : tokenCount(makeSampler(w.output_tokens));
  const arrivals = rng.stream("arrivals");
  const prompts = rng.stream("prompt_tokens");
  const maxes = rng.stream("max_tokens");
  const outputs = rng.stream("output_tokens");
  const prefixes = rng.stream("shared_prefix");
  const width = String(w.num_requests - 1).length;
  const makePrompt = promptMaker();
  let index = 0;
  // Poisson's first arrival is one gap after the start; constant arrivals start at the start.
  let t = w.start_s + (arrival.process === "poisson" ? interArrival(arrivals) : 0);
  return {
    totalRequests: w.num_requests,
    next() {
      if (index >= w.num_requests) return null;
      const id = `req-${String(index).padStart(width, "0")}`;
      const length = promptLen(prompts);
      let prefix: SharedPrefix | undefined;
      let prefixGroup: string | undefined;
      const sp = w.shared_prefix;
      if (sp !== undefined) {
        // Both draws happen for every request so that one choice never shifts the next request's.
        const use = prefixes.next() < sp.probability;
        const group = prefixes.int(0, sp.groups - 1);
        if (use) {
          prefixGroup = `group-${group}`;
          prefix = { key: `prefix:${prefixGroup}`, tokens: sp.tokens };
        }
      }
      const request: ClientRequest = {
        id,
        arrivalTime: secondsToUs(t),
        prompt: makePrompt(length, `prompt:${id}`, prefix),
        maxTokens: maxTokens(maxes),
        ...(outputLen === null ? {} : { stopAfterTokens: outputLen(outputs) }),
        ...(prefixGroup === undefined ? {} : { prefixGroup }),
      };
      index += 1;
      t += interArrival(arrivals);
      return request;
    },
  };
}

function explicitSource(w: ExplicitWorkloadConfig): WorkloadSource {
  const promptsById = new Map<string, Prompt>();
  const makePrompt = promptMaker();
  const requests: ClientRequest[] = w.requests.map((r) => {
    let prompt: Prompt;
    if (r.prompt_from !== undefined) {
      const source = promptsById.get(r.prompt_from);
      if (source === undefined) {
        throw new Error(
          `request ${r.id}: prompt_from '${r.prompt_from}' is not an earlier request`,
        );
      }
      prompt = source;
    } else {
      const prefix =
        r.prefix === undefined
          ? undefined
          : { key: `prefix:${r.prefix.group}`, tokens: r.prefix.tokens };
      prompt = makePrompt(r.prompt_tokens ?? 0, `prompt:${r.id}`, prefix);
    }
    promptsById.set(r.id, prompt);
    return {
      id: r.id,
      arrivalTime: secondsToUs(r.at_s),
      prompt,
      maxTokens: r.max_tokens,
      ...(r.output_tokens === undefined ? {} : { stopAfterTokens: r.output_tokens }),
      ...(r.prefix === undefined ? {} : { prefixGroup: r.prefix.group }),
    };
  });
  // Stable: requests at the same time arrive in file order.
  const ordered = requests
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.arrivalTime - b.r.arrivalTime || a.i - b.i)
    .map(({ r }) => r);
  let index = 0;
  return {
    totalRequests: ordered.length,
    next: () => ordered[index++] ?? null,
  };
}

/** Token counts are whole and at least 1. */
function tokenCount(sampler: Sampler): (rng: Rng) => number {
  return (rng) => Math.max(1, Math.round(sampler(rng)));
}
