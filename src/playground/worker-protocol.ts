// The messages between the playground's page and its Web Worker, which runs the simulator.

import type { ProfileName } from "../accounting/profiles.ts";
import type { ScenarioIssue } from "../scenario/errors.ts";
import type { PageOutcome } from "./page-run.ts";

export type ToWorker =
  | { type: "validate"; id: number; text: string; file: string }
  | {
      type: "run";
      id: number;
      text: string;
      file: string;
      seed?: number | undefined;
      profile?: ProfileName | undefined;
    }
  | { type: "explain"; id: number; text: string; file: string; seed: number; request: string };

export type FromWorker =
  | { type: "validated"; id: number; issues: ScenarioIssue[]; omitted: number }
  | { type: "progress"; id: number; done: number; total: number; simulatedS: number }
  | { type: "result"; id: number; outcome: PageOutcome }
  | { type: "explained"; id: number; text: string }
  /** A bug: the simulator threw something that is not a scenario's problem. */
  | { type: "crashed"; id: number; message: string };
