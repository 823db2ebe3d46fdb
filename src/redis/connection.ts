// ioredis connections tuned so that no request ever waits on a dead socket: commands fail at once while
// disconnected (no offline queue), a hung server is cut off by a command timeout, and ioredis keeps
// reconnecting in the background with capped backoff.
// The address may name one server, a Sentinel-managed primary or a Redis Cluster (redis-address.ts).
import { Cluster, type ClusterOptions, Redis as SingleRedis, type RedisOptions } from 'ioredis';
import type { Logger } from '../infra/logger.ts';
import { parseRedisTarget } from './redis-address.ts';

/** A connection to one server, a Sentinel-managed primary or a Redis Cluster: the same command API. */
export type Redis = SingleRedis | Cluster;
export { Cluster };

export interface RedisConnectionOptions {
  /** A Redis address (redis-address.ts). */
  url: string;
  /** Shows in logs and in CLIENT LIST. */
  name: string;
  logger: Logger;
  commandTimeoutMs?: number;
}

const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 2_000);

function tunedOptions(name: string, commandTimeoutMs: number | undefined): RedisOptions {
  return {
    connectionName: `cachegate-${name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs ?? 500,
    connectTimeout: 2_000,
    retryStrategy,
  };
}

/** Opens a connection of the address's topology, with the tuning above (docs/ARCHITECTURE.md "Redis topologies"). */
export function openRedis(url: string, tuning: RedisOptions): Redis {
  const target = parseRedisTarget(url);
  if (target.kind === 'single') return new SingleRedis(url, tuning);
  const tls = target.tls ? { tls: {} } : {};
  if (target.kind === 'sentinel') {
    return new SingleRedis({
      ...tuning,
      ...target.auth,
      ...tls,
      sentinels: target.sentinels,
      name: target.name,
      sentinelRetryStrategy: retryStrategy,
      // Sentinels announce a new primary at once (+switch-master): reconnect then, not at the next error.
      failoverDetector: true,
      ...(target.auth.password && { sentinelPassword: target.auth.password }),
    });
  }
  const options: ClusterOptions = {
    redisOptions: { ...tuning, ...target.auth, ...tls },
    enableOfflineQueue: false,
    clusterRetryStrategy: retryStrategy,
    // No auto-pipelining: ioredis then keeps one pipeline in flight per node and queues the rest behind
    // it. Without it, per-slot commands still go out at once on the node's socket, without waiting for
    // each other's replies.
    // A node that drops is asked again for the slot map rather than waited for: failover is followed.
    // A command is redirected or retried at most 3 times, 100 ms apart: during a failover it fails
    // within about half a second and the request falls back to PostgreSQL, rather than waiting 1.6 s.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 3,
    slotsRefreshTimeout: 2_000,
    // An instance that sends nothing to a failed master's slots still learns of the failover within 5 s
    // (its caches drop what the promoted replica may have lost: failover-watch.ts).
    slotsRefreshInterval: 5_000,
    shardedSubscribers: true,
  };
  return new Cluster(target.nodes, options);
}

export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const log = options.logger.child({ component: 'redis', connection: options.name });
  const redis = openRedis(options.url, tunedOptions(options.name, options.commandTimeoutMs));
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

/**
 * Closes a connection for good, whatever state it is in (shutdown). quit() lets the replies under way
 * arrive, but without an offline queue it is refused while the connection is reconnecting, which would
 * then go on reconnecting: disconnect() ends it instead. A reconnect whose ready check is answered as
 * the connection closes would subscribe its channels again on the closing socket, and ioredis leaves
 * that SUBSCRIBE's failure unhandled (an unhandled rejection): nothing is to be subscribed any more.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis instanceof SingleRedis) redis.options.autoResubscribe = false;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
