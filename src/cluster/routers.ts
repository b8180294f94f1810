// Picks the instance for each request; the routing half of vLLM's toy proxy
// (tests/v1/kv_connector/nixl_integration/toy_proxy_server.py), with pluggable policies.

import type { Prompt } from "../engine/prompt.ts";
import type { RoutingPolicy } from "../scenario/types.ts";
import type { Instance } from "./instance.ts";

export interface Router {
  pick(prompt: Prompt): Instance;
}

export function makeRouter(policy: RoutingPolicy, instances: readonly Instance[]): Router {
  if (instances.length === 0) throw new Error(`makeRouter(${policy}): no instances to route to`);
  switch (policy) {
    case "round_robin": {
      let next = 0;
      return {
        pick() {
          const instance = instances[next]!;
          next = (next + 1) % instances.length;
          return instance;
        },
      };
    }
    case "least_loaded":
      return { pick: () => leastLoaded(instances) };
    case "prefix_aware":
      return { pick: (prompt) => leastLoaded(longestCachedPrefix(instances, prompt).holders) };
    case "cache_aware":
      return { pick: (prompt) => cacheAware(instances, prompt) };
  }
}

/**
 * The default policy of vLLM's router (vllm-project/router, forked from SGLang's gateway), with
 * its default thresholds. When the busiest instance holds more than 64 requests over the idlest
 * and more than 1.5 times as many, balance load. Otherwise go where the longest cached prefix
 * is, if it covers more than 30 % of the prompt; if none does, balance load. The router keeps
 * its own tree of the prefixes it routed, and with no match picks the instance whose tree is
 * smallest; pdsim asks each instance's prefix cache instead, and picks the least loaded.
 */
const CACHE_THRESHOLD = 0.3;
const BALANCE_ABS_THRESHOLD = 64;
const BALANCE_REL_THRESHOLD = 1.5;

function cacheAware(instances: readonly Instance[], prompt: Prompt): Instance {
  let most = -Infinity;
  let least = Infinity;
  for (const instance of instances) {
    most = Math.max(most, instance.load);
    least = Math.min(least, instance.load);
  }
  if (most - least > BALANCE_ABS_THRESHOLD && most > BALANCE_REL_THRESHOLD * least) {
    return leastLoaded(instances);
  }
  const { tokens, holders } = longestCachedPrefix(instances, prompt);
  return leastLoaded(tokens > CACHE_THRESHOLD * prompt.length ? holders : instances);
}

/** The most tokens of the prompt's prefix any instance has cached, and the instances that have. */
function longestCachedPrefix(
  instances: readonly Instance[],
  prompt: Prompt,
): { tokens: number; holders: Instance[] } {
  let holders: Instance[] = [];
  let tokens = -1;
  for (const instance of instances) {
    const hit = instance.cachedPrefixTokens(prompt);
    if (hit > tokens) {
      tokens = hit;
      holders = [instance];
    } else if (hit === tokens) holders.push(instance);
  }
  return { tokens, holders };
}

/** Fewest running + waiting; ties go to the earliest in scenario order. */
function leastLoaded(instances: readonly Instance[]): Instance {
  let best = instances[0]!;
  for (const instance of instances) if (instance.load < best.load) best = instance;
  return best;
}
