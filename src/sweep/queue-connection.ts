// The Redis behind a sweep's queue (BullMQ): the queue's name, and a connection that fails at
// once, with the reason, when Redis cannot be reached at first, but reconnects for as long as it
// takes once it has been (a worker outlives a Redis restart).
import { Redis } from "ioredis";
import { parseQueueUrl, QueueUnreachableError } from "./queue-url.ts";

/** How long a first connection may take before the Redis counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
const RECONNECT_MAX_MS = 2_000;

/** A connected client; close it with `quit()` once the BullMQ objects using it are closed. */
export async function connectRedis(url: string): Promise<Redis> {
  const parsed = parseQueueUrl(url);
  let connected = false;
  let lastError: Error | null = null;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // BullMQ's blocking commands wait as long as they must; a lost connection is retried below.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => (connected ? Math.min(times * 200, RECONNECT_MAX_MS) : null),
  });
  // Without a listener ioredis prints each error itself; the first one is reported below, and
  // BullMQ reports those after the first connection.
  client.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    // ioredis rejects with "Connection is closed."; the error event says why.
    const reason = (lastError ?? (error as Error)).message;
    // Host and port only: a URL's password stays out of the message.
    throw new QueueUnreachableError(
      `cannot reach Redis at ${parsed.protocol}//${parsed.host}: ${reason}`,
    );
  }
  connected = true;
  return client;
}

/** Fails as connectRedis does if Redis cannot be reached; leaves no connection open. */
export async function assertReachable(url: string): Promise<void> {
  await closeRedis(await connectRedis(url));
}

export async function closeRedis(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    // Already closed: Redis went away, and nothing is left to send.
    client.disconnect();
  }
}
