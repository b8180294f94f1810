// `pdsim bench-run SCENARIO` (hidden; `pdsim bench` spawns it): the scenario with every stat
// logger off, timed in a fresh process, as one line of JSON with the figures `pdsim run --json`
// gives for the other configurations.

import { PROFILES } from "../accounting/profiles.ts";
import { Cluster } from "../cluster/cluster.ts";
import { loadScenario } from "../scenario/index.ts";
import { peakRssMb } from "./run-command.ts";
import { usToSeconds } from "../../sim/index.ts";
import type { CliIo } from "./io.ts";

export interface BenchRunFigures {
  wall_seconds: number;
  simulated_seconds: number;
  events: number;
  engine_steps: number;
  requests: number;
  peak_rss_mb: number;
}

export function benchRunCommand(io: CliIo, scenarioFile: string): number {
  const scenario = loadScenario(scenarioFile);
  const cluster = new Cluster(scenario, scenario.seed, {}, [PROFILES[scenario.metrics.profile]], {
    recordStats: false,
  });
  const started = performance.now();
  const result = cluster.run();
  const figures: BenchRunFigures = {
    wall_seconds: (performance.now() - started) / 1000,
    simulated_seconds: usToSeconds(result.lastFinishTime),
    events: result.events,
    engine_steps: cluster.instances.reduce((sum, i) => sum + i.engine.numSteps, 0),
    requests: result.requestsFinished,
    peak_rss_mb: peakRssMb(),
  };
  io.stdout.write(JSON.stringify(figures) + "\n");
  return 0;
}
