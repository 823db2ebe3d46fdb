// ioredis connections tuned so that no request ever waits on a dead socket: commands fail at once while
// disconnected (no offline queue), a hung server is cut off by a command timeout, and ioredis keeps
// reconnecting in the background with capped backoff.
import { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.ts';

export type { Redis };

export interface RedisConnectionOptions {
  url: string;
  /** Shows in logs and in CLIENT LIST. */
  name: string;
  logger: Logger;
  commandTimeoutMs?: number;
}

export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const log = options.logger.child({ component: 'redis', connection: options.name });
  const redis = new Redis(options.url, {
    connectionName: `cachegate-${options.name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  });
  // Without a listener ioredis prints every connection error; one structured line per state change is enough.
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) log.warn({ err: error.message }, 'redis connection error');
    lastError = error.message;
  });
  redis.on('ready', () => {
    lastError = '';
    log.info('redis connection ready');
  });
  return redis;
}

/** Resolves when the connection is ready, or false after the timeout (the gateway starts without Redis). */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          redis.off('ready', onReady);
          resolve(false);
        }, timeoutMs)
      : undefined;
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
