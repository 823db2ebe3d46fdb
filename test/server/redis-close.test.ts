// Shutdown closes the Redis connections in whatever state they are: a subscriber caught reconnecting
// ends there (no reconnect after shutdown), and one whose reconnect finishes as it closes does not leave
// an unhandled rejection behind (ioredis would subscribe its channels again on the closing socket).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.ts';
import { closeRedis, createRedisConnection, type Redis, waitUntilReady } from '../../src/redis/connection.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { waitUntil } from '../support/wait.ts';

let server: RedisServer;
const unhandled: unknown[] = [];
const record = (reason: unknown): void => void unhandled.push(reason);

beforeAll(async () => {
  server = await startRedis();
  process.on('unhandledRejection', record);
});
afterAll(async () => {
  process.off('unhandledRejection', record);
  await server?.destroy();
});
afterEach(() => {
  unhandled.length = 0;
});

async function subscribedConnection(): Promise<Redis> {
  const subscriber = createRedisConnection({ url: server.url, name: 'close-test', logger: createLogger('silent') });
  await waitUntilReady(subscriber, 5_000);
  await subscriber.subscribe('close-test:a', 'close-test:b');
  return subscriber;
}

describe('closeRedis', () => {
  it('ends a subscriber caught reconnecting: it does not come back once Redis does', async () => {
    const subscriber = await subscribedConnection();
    await server.stop();
    try {
      await waitUntil(() => subscriber.status === 'reconnecting', 5_000, 'the subscriber reconnecting');
      await closeRedis(subscriber);
    } finally {
      await server.start();
    }
    const reconnects: string[] = [];
    subscriber.on('connect', () => reconnects.push('connect'));
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // longer than the longest reconnect backoff
    expect(reconnects).toEqual([]);
    // ioredis leaves the status at 'reconnecting' when disconnected between attempts; no attempt follows.
    expect(subscriber.status).not.toBe('ready');
    expect(unhandled).toEqual([]);
  });

  it('closes a subscriber whose reconnect is being checked, without an unhandled rejection', async () => {
    const subscriber = await subscribedConnection();
    await server.stop();
    // The window is one round trip on localhost: close right after ioredis sends its ready check (INFO),
    // so its answer arrives, and ioredis runs its re-subscription, while the connection closes.
    let closing: Promise<void> | undefined;
    const instrumented = subscriber as unknown as { info: (...args: unknown[]) => unknown };
    const sendInfo = instrumented.info.bind(subscriber);
    instrumented.info = (...args: unknown[]) => {
      const sent = sendInfo(...args);
      closing ??= closeRedis(subscriber);
      return sent;
    };
    await server.start();
    await waitUntil(() => closing !== undefined, 5_000, 'the reconnect reaching its ready check');
    await closing;
    await waitUntil(() => subscriber.status === 'end', 2_000, 'the connection ended');
    await new Promise((resolve) => setTimeout(resolve, 200)); // a rejection is reported a tick or more later
    expect(unhandled).toEqual([]);
  });
});
