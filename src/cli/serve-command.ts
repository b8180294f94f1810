// `pdsim serve SCENARIO`: runs the scenario at `--speed` times real time and serves each
// instance's /metrics on its own loopback port while it runs, so that curl or a real Prometheus
// can scrape a simulated deployment live. Ctrl-C stops it.

import { usToSeconds } from "../../sim/index.ts";
import { Cluster } from "../cluster/cluster.ts";
import { PROFILES, type ProfileName } from "../accounting/profiles.ts";
import { MetricsServer } from "../output/metrics-server.ts";
import { loadScenario } from "../scenario/index.ts";
import { EXIT_OK, UsageError, exitForBadInput, parseSeed } from "./bad-input.ts";
import type { CliIo } from "./io.ts";
import { Interrupted, SignalLatch } from "./signals.ts";

export interface ServeOptions {
  scenario: string;
  port: string;
  speed: string;
  host: string;
  seed?: string | undefined;
  profile?: string | undefined;
}

/** How often the simulation catches up with the wall clock. */
const TICK_MS = 20;

/** What `serve` runs, checked before any port is opened; throws on bad input. */
export interface ServePlan {
  cluster: Cluster;
  port: number;
  speed: number;
  profile: ProfileName;
}

export function planServe(opts: ServeOptions): ServePlan {
  const scenario = loadScenario(opts.scenario);
  const seed = opts.seed === undefined ? scenario.seed : parseSeed(opts.seed);
  const port = parsePort(opts.port);
  const speed = parseSpeed(opts.speed);
  if (port + scenario.instances.length - 1 > 65535) {
    throw new UsageError(
      `--port ${port}: ${scenario.instances.length} instances need ports up to ${port + scenario.instances.length - 1}, past 65535`,
    );
  }
  const profile = (opts.profile ?? scenario.metrics.profile) as ProfileName;
  return { cluster: new Cluster(scenario, seed, {}, [PROFILES[profile]]), port, speed, profile };
}

export async function serveCommand(io: CliIo, opts: ServeOptions): Promise<number> {
  const servers: MetricsServer[] = [];
  const interrupt = new SignalLatch();
  try {
    const { cluster, port, speed, profile } = planServe(opts);
    for (const [i, instance] of cluster.instances.entries()) {
      const server = new MetricsServer(() => instance.statLoggers.prometheus.exposition());
      servers.push(server);
      try {
        await server.listen(port + i, opts.host);
      } catch (error) {
        throw new UsageError(
          `cannot listen on ${opts.host}:${port + i} for ${instance.name}: ${(error as Error).message}`,
        );
      }
      io.stdout.write(`${instance.name}  http://${hostForUrl(opts.host)}:${port + i}/metrics\n`);
    }
    io.stdout.write(
      `pdsim: simulating ${cluster.scenario.name} at ${speed}x real time (profile ${profile}); Ctrl-C stops\n`,
    );
    await simulateLive(cluster, speed, interrupt);
    const result = cluster.finishRun();
    io.stdout.write(
      `pdsim: simulation finished at ${usToSeconds(cluster.sim.now)} s simulated ` +
        `(${result.requestsFinished} requests); serving the final metrics until Ctrl-C\n`,
    );
    await interrupt.wait();
    io.stdout.write("pdsim: stopped\n");
    return EXIT_OK;
  } catch (err) {
    if (err instanceof Interrupted) {
      io.stdout.write("pdsim: stopped\n");
      return EXIT_OK;
    }
    return exitForBadInput(io, err);
  } finally {
    interrupt.dispose();
    await Promise.all(servers.map((s) => s.close()));
  }
}

/**
 * Runs the kernel up to `speed` × the wall time elapsed, every tick, until it runs dry; rejects
 * with Interrupted on Ctrl-C. Between ticks the servers answer scrapes.
 */
function simulateLive(cluster: Cluster, speed: number, interrupt: SignalLatch): Promise<void> {
  cluster.start();
  const startedMs = performance.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (interrupt.received !== null) {
        reject(new Interrupted(interrupt.received));
        return;
      }
      const target = Math.floor((performance.now() - startedMs) * 1000 * speed);
      try {
        cluster.sim.run({ until: Math.max(target, cluster.sim.now) });
      } catch (error) {
        reject(error);
        return;
      }
      // Done when no request is left: the log timers that would tick on change no metric.
      if (!cluster.hasWork() || cluster.sim.pendingEvents === 0) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
}

function parsePort(text: string): number {
  const port = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be an integer from 1 to 65535, got '${text}'`);
  }
  return port;
}

function parseSpeed(text: string): number {
  const speed = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new UsageError(`--speed must be a positive number, got '${text}'`);
  }
  return speed;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
