// What names a sweep's queue: the --queue URL and the queue's name in it. Free of the Redis
// client, so that the command line can check a URL and name the error without loading it.

/**
 * One queue for every sweep of one pdsim version: a worker takes any sweep's runs, but only
 * those its own code was meant to run (a run's key holds the version too).
 */
export function queueName(version: string): string {
  return `pdsim-sweeps-${version}`;
}

/** A --queue URL that is not one, or a Redis that does not answer: one line, exit 2. */
export class QueueUnreachableError extends Error {}

export function parseQueueUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUnreachableError(`--queue must be a redis:// URL, got '${url}'`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new QueueUnreachableError(`--queue must be a redis:// URL, got '${url}'`);
  }
  return parsed;
}
