// A digest of everything bench-small produces in-process: every request record in finish order
// and every sample of every instance's exposition under every profile.
import { createHash } from "node:crypto";
import { Cluster } from "../../src/cluster/cluster.ts";
import { PROFILE_LIST } from "../../src/accounting/profiles.ts";
import { loadScenario } from "../../src/scenario/index.ts";

export function benchSmallDigest(): { digest: string; requests: number } {
  const scenario = loadScenario("scenarios/bench/bench-small.yaml");
  const hash = createHash("sha256");
  let requests = 0;
  const cluster = new Cluster(
    scenario,
    scenario.seed,
    {
      onRequestFinished: (r) => {
        requests += 1;
        hash.update(JSON.stringify(r));
      },
    },
    PROFILE_LIST,
  );
  hash.update(JSON.stringify(cluster.run()));
  for (const instance of cluster.instances) {
    for (const exposition of instance.expositions)
      hash.update(JSON.stringify(exposition.samples()));
  }
  return { digest: hash.digest("hex"), requests };
}
