// The closed sets of names a scenario may use, in the order error messages list them.

/** Accounting profiles: vLLM versions whose prompt-token metrics pdsim reproduces. */
export { PROFILE_NAMES } from "../accounting/profiles.ts";

export const CONNECTORS = ["nixl", "p2p_nccl", "none", "offloading", "lmcache", "multi"] as const;

/** The connectors that move KV from a prefill instance to a decode instance. */
export const PD_CONNECTORS = ["nixl", "p2p_nccl"] as const;

/** The connectors that load from and save to a kv_cache_tiers entry. */
export const TIER_CONNECTORS = ["offloading", "lmcache"] as const;

export const isPdConnector = (name: string | undefined): name is (typeof PD_CONNECTORS)[number] =>
  (PD_CONNECTORS as readonly (string | undefined)[]).includes(name);

export const isTierConnector = (
  name: string | undefined,
): name is (typeof TIER_CONNECTORS)[number] =>
  (TIER_CONNECTORS as readonly (string | undefined)[]).includes(name);

/** instance: every instance that uses the tier has its own; cluster: all share one. */
export const TIER_SCOPES = ["instance", "cluster"] as const;

export const ROUTING_POLICIES = [
  "round_robin",
  "least_loaded",
  "prefix_aware",
  "cache_aware",
] as const;

export const ROLES = ["prefill", "decode", "unified"] as const;

export const LOAD_FAILURE_POLICIES = ["fail", "recompute"] as const;
