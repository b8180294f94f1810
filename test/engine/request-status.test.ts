import { describe, expect, it } from "vitest";
import {
  FINISH_REASONS,
  finishReasonOf,
  isFailure,
  type RequestStatus,
} from "../../src/engine/request-status.ts";

const STATUSES: readonly RequestStatus[] = [
  "WAITING",
  "WAITING_FOR_REMOTE_KVS",
  "RUNNING",
  "PREEMPTED",
  "FINISHED_STOPPED",
  "FINISHED_LENGTH_CAPPED",
  "FINISHED_ABORTED",
  "FINISHED_ERROR",
];

describe("isFailure", () => {
  it("counts an error or an abort as a failure, a stop or a length cap not", () => {
    expect(FINISH_REASONS.filter(isFailure)).toEqual(["abort", "error"]);
    expect(isFailure(null)).toBe(false);
  });

  it("holds of exactly the FINISHED_ERROR and FINISHED_ABORTED statuses", () => {
    expect(STATUSES.filter((s) => isFailure(finishReasonOf(s)))).toEqual([
      "FINISHED_ABORTED",
      "FINISHED_ERROR",
    ]);
  });
});
