// A Redis Cluster master dies under load (SIGKILL): its replica takes over, and the gateways follow
// without a restart and without one failed read. A private 3-master cluster (test/support/redis-cluster.ts),
// not the run's shared one: the test kills the master that serves the bus's invalidation channel, so
// both the cache and the sharded pub/sub have to move to the new master.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeyBuilder, readPrismaSchemaText } from '../../src/cache/keys.ts';
import { INVALIDATION_TOPIC } from '../../src/cache/invalidation.ts';
import { endpoint } from '../cache/kit.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, rawRedis, signIn, waitUntil } from '../support/kit.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';

const PRODUCT = 'query P($id: ID!) { product(id: $id) { id name } }';
const UPDATE = 'mutation U($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { id } }';
const IDS = Array.from({ length: 40 }, (_, i) => String(i + 1));
const READERS = 8;

let cluster: RedisCluster;
let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  [cluster, database] = await Promise.all([
    startRedisCluster(),
    createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase')),
  ]);
  const options = { databaseUrl: database.url, redisUrl: cluster.url, cachePrefix: randomPrefix() };
  [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await Promise.allSettled([cluster?.destroy(), database?.drop()]);
});

async function readiness(gateway: TestGateway): Promise<{ redis: string; redisCircuit?: string }> {
  return (await fetch(endpoint(gateway, '/readyz'))).json() as Promise<{ redis: string; redisCircuit?: string }>;
}

describe('Redis Cluster failover under load', () => {
  it('a killed master is replaced; no read fails meanwhile, and both gateways use the new master after', async () => {
    for (const id of IDS) dataOf(await a.query(PRODUCT, { id }));
    const failures: string[] = [];
    const latencies: number[] = [];
    let reading = true;
    const reader = async (n: number): Promise<void> => {
      for (let i = n; reading; i += 1) {
        const gateway = i % 2 ? a : b;
        const started = performance.now();
        const reply = await gateway.query(PRODUCT, { id: IDS[i % IDS.length]! }).catch((e: Error) => e);
        latencies.push(performance.now() - started);
        if (reply instanceof Error) failures.push(reply.message);
        else if (reply.status !== 200 || reply.body.errors || !reply.body.data?.product)
          failures.push(`${reply.status} ${JSON.stringify(reply.body.errors)}`);
      }
    };
    const readers = Array.from({ length: READERS }, (_, n) => reader(n));
    await waitUntil(() => latencies.length > 200, 10_000, 'reads before the kill');

    // The master that serves the invalidation channel: the bus must move as well as the cached keys.
    const { port } = await cluster.killMaster(`${a.cachePrefix}:${INVALIDATION_TOPIC}`);
    const tookMs = await cluster.waitForFailover(port);
    // Both gateways are back on Redis (the circuit closed again) without a restart.
    for (const gateway of [a, b])
      await waitUntil(async () => (await readiness(gateway)).redisCircuit === 'closed', 10_000, 'the circuit to close');
    const afterFailover = latencies.length;
    await waitUntil(() => latencies.length > afterFailover + 200, 10_000, 'reads after the failover');
    reading = false;
    await Promise.all(readers);
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    console.log(`[failover] ${latencies.length} reads, failover ${Math.round(tookMs)} ms, p99 ${Math.round(p99)} ms`);
    expect(failures).toEqual([]);
    for (const gateway of [a, b])
      expect(await readiness(gateway)).toMatchObject({ redis: 'up', redisCircuit: 'closed' });

    // Fills reach the cluster again, and an invalidation on A reaches B's L1 over the re-subscribed bus.
    const redis = rawRedis(cluster.url);
    await redis.connect();
    try {
      const key = createKeyBuilder(a.cachePrefix, readPrismaSchemaText()).entityKey('Product', '77');
      dataOf(await b.query(PRODUCT, { id: '77' }));
      await waitUntil(async () => (await redis.exists(key)) === 1, 5_000, 'the fill to reach the new master');
    } finally {
      redis.disconnect();
    }
    dataOf(await b.query(PRODUCT, { id: '3' })); // in B's L1 now
    const admin = (await signIn(a.url)).headers;
    dataOf(await a.query(UPDATE, { id: '3', name: 'After the failover' }, admin));
    const seen = dataOf(await b.query<{ product: { name: string } }>(PRODUCT, { id: '3' }));
    expect(seen.product.name).toBe('After the failover');
  }, 60_000);
});
