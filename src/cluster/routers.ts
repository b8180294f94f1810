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
      return {
        pick(prompt) {
          let best: Instance[] = [];
          let bestHit = -1;
          for (const instance of instances) {
            const hit = instance.cachedPrefixTokens(prompt);
            if (hit > bestHit) {
              bestHit = hit;
              best = [instance];
            } else if (hit === bestHit) best.push(instance);
          }
          return leastLoaded(best);
        },
      };
  }
}

/** Fewest running + waiting; ties go to the earliest in scenario order. */
function leastLoaded(instances: readonly Instance[]): Instance {
  let best = instances[0]!;
  for (const instance of instances) if (instance.load < best.load) best = instance;
  return best;
}
