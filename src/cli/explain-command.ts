// `pdsim explain SCENARIO --request ID`: one request's story on every instance, then its prompt
// tokens by source under the truth and every accounting profile, with the reason for each
// difference.

import { workloadSource } from "../workload/workload.ts";
import { explainRequest, renderExplanation } from "../explain/explanation.ts";
import { loadScenario } from "../scenario/index.ts";
import { didYouMean } from "../scenario/suggest.ts";
import type { CliIo } from "./io.ts";
import { EXIT_OK, UsageError, exitForBadInput, parseSeed } from "./bad-input.ts";

export interface ExplainOptions {
  scenario: string;
  request: string;
  seed?: string | undefined;
  json: boolean;
}

export function explainCommand(io: CliIo, opts: ExplainOptions): number {
  try {
    const scenario = loadScenario(opts.scenario);
    const seed = opts.seed === undefined ? scenario.seed : parseSeed(opts.seed);
    const explained = explainRequest(scenario, seed, opts.request, workloadSource);
    if ("missing" in explained) {
      const ids = explained.missing.slice().sort();
      throw new UsageError(
        `${opts.scenario}: no request '${opts.request}'${didYouMean(opts.request, ids)}` +
          (ids.length > 0 ? ` (ids run from ${ids[0]} to ${ids.at(-1)})` : ""),
      );
    }
    if (opts.json) {
      const { request, events, accounting } = explained;
      io.stdout.write(JSON.stringify({ request, events, accounting }, null, 2) + "\n");
    } else {
      io.stdout.write(renderExplanation(explained));
    }
    return EXIT_OK;
  } catch (err) {
    return exitForBadInput(io, err);
  }
}
