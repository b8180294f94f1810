// The closed sets of names a scenario may use, in the order error messages list them.

/** Accounting profiles: vLLM versions whose prompt-token metrics pdsim reproduces. */
export { PROFILE_NAMES } from "../accounting/profiles.ts";

export const CONNECTORS = ["nixl", "p2p_nccl", "none"] as const;

export const ROUTING_POLICIES = [
  "round_robin",
  "least_loaded",
  "prefix_aware",
  "cache_aware",
] as const;

export const ROLES = ["prefill", "decode", "unified"] as const;

export const LOAD_FAILURE_POLICIES = ["fail", "recompute"] as const;
