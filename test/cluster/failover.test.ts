// A Redis Cluster master dies under load (SIGKILL): its replica takes over, and the gateways follow
// without a restart and without one failed read. A private 3-master cluster (test/support/redis-cluster.ts),
// not the run's shared one: the test kills the master that serves the bus's invalidation channel, so
// both the cache and the sharded pub/sub have to move to the new master.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INVALIDATION_TOPIC } from '../../src/cache/invalidation.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { expectFollowed, readThrough, startPair, type GatewayPair } from './kit.ts';

let pair: GatewayPair & { redis: RedisCluster };
/** The drills' client timeout for a read. */
const CLIENT_TIMEOUT_MS = 2_000;

beforeAll(async () => {
  pair = await startPair(
    startRedisCluster,
    (cluster) => ({ REDIS_URL: cluster.url }),
    inject('adminDatabaseUrl'),
    inject('templateDatabase'),
  );
});

afterAll(() => pair?.stop());

describe('Redis Cluster failover under load', () => {
  it('a killed master is replaced; no read fails meanwhile, and both gateways use the new master after', async () => {
    const { a, b, redis: cluster } = pair;
    const { failures, result, reads, p99, slowest } = await readThrough([a, b], async () => {
      // The master that serves the invalidation channel: the bus must move as well as the cached keys.
      const { port } = await cluster.killMaster(`${a.cachePrefix}:${INVALIDATION_TOPIC}`);
      return cluster.waitForFailover(port);
    });
    const figures = `failover ${Math.round(result)} ms, read p99 ${Math.round(p99)} ms, slowest ${Math.round(slowest)} ms`;
    console.log(`[cluster failover] ${reads} reads, ${figures}`);
    expect(failures).toEqual([]);
    // A read touching the dead master's slots falls back to PostgreSQL at once (src/redis/node-guard.ts)
    // rather than waiting on Redis several times: never near a client's 2 s timeout.
    expect(slowest).toBeLessThan(CLIENT_TIMEOUT_MS);
    await expectFollowed(a, b, cluster.url);
  }, 120_000);
});
