// Request lifecycle states and finish reasons; mirrors vllm/v1/request.py (RequestStatus) and
// vllm/v1/engine/__init__.py (FinishReason).

export type RequestStatus =
  | "WAITING"
  | "WAITING_FOR_REMOTE_KVS"
  | "RUNNING"
  | "PREEMPTED"
  | "FINISHED_STOPPED"
  | "FINISHED_LENGTH_CAPPED"
  | "FINISHED_ABORTED"
  | "FINISHED_ERROR";

/** The `finished_reason` label values of `vllm:request_success_total`, in vLLM's enum order. */
export const FINISH_REASONS = ["stop", "length", "abort", "error"] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

export function isFinished(status: RequestStatus): boolean {
  return status.startsWith("FINISHED_");
}

/**
 * Whether a request ended in failure (an error, such as a failed KV load under the `fail`
 * policy, or an abort) rather than by its stop checks: a failed prefill leg hands nothing on, so
 * its connector neither holds nor pushes its KV and the proxy sends no decode leg.
 */
export function isFailure(reason: FinishReason | null): boolean {
  return reason === "error" || reason === "abort";
}

export function finishReasonOf(status: RequestStatus): FinishReason | null {
  switch (status) {
    case "FINISHED_STOPPED":
      return "stop";
    case "FINISHED_LENGTH_CAPPED":
      return "length";
    case "FINISHED_ABORTED":
      return "abort";
    case "FINISHED_ERROR":
      return "error";
    case "WAITING":
    case "WAITING_FOR_REMOTE_KVS":
    case "RUNNING":
    case "PREEMPTED":
      return null;
  }
}
