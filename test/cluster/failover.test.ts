// A Redis Cluster master dies under load (SIGKILL): its replica takes over, and the gateways follow
// without a restart and without one failed read. A private 3-master cluster (test/support/redis-cluster.ts),
// not the run's shared one: the test kills the master that serves the bus's invalidation channel, so
// both the cache and the sharded pub/sub have to move to the new master.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INVALIDATION_TOPIC } from '../../src/cache/invalidation.ts';
import { createKeyBuilder, readPrismaSchemaText } from '../../src/cache/keys.ts';
import { dataOf, rawRedis, signIn, waitUntil } from '../support/kit.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { expectFollowed, PRODUCT, readThrough, startPair, UPDATE, type GatewayPair } from './kit.ts';

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

describe('Redis Cluster failover', () => {
  // First, while every master still has its replica. A failover can lose writes the old master took
  // (replication is asynchronous): here the one that filed a stored answer in its index, removed by hand.
  it('drops stored answers a lost index entry would leave unpurgeable: a write after it is seen at once', async () => {
    const { a, b, redis: cluster } = pair;
    const redis = rawRedis(cluster.url);
    await redis.connect();
    try {
      const dep = createKeyBuilder(a.cachePrefix, readPrismaSchemaText()).entityKey('Product', '5');
      const index = a.responses!.indexKey(dep);
      dataOf(await a.query(PRODUCT, { id: '5' }));
      await waitUntil(async () => (await redis.scard(index)) === 1, 5_000, 'the answer to be filed');
      const [entry] = await redis.smembers(index);
      await redis.srem(index, entry!);
      const { to } = await cluster.promoteReplica(index);
      // Every instance sees the new slot map within its refresh interval and drops what Redis may hold wrongly.
      await waitUntil(async () => (await redis.exists(entry!)) === 0, 10_000, 'the stored answer to be dropped');
      const admin = (await signIn(a.url)).headers;
      dataOf(await a.query(UPDATE, { id: '5', name: `After promoting ${to}` }, admin));
      for (const gateway of [b, a])
        expect(dataOf(await gateway.query<{ product: { name: string } }>(PRODUCT, { id: '5' })).product.name).toBe(
          `After promoting ${to}`,
        );
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  it('under load, a killed master is replaced; no read fails meanwhile, and both gateways use the new master after', async () => {
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
