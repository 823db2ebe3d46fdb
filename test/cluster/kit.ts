// What the failover tests share: reads from two gateways while a fault runs, and the checks that the
// gateways follow the new Redis primary without a restart.
import { expect } from 'vitest';
import { INVALIDATION_TOPIC } from '../../src/cache/invalidation.ts';
import { createKeyBuilder, readPrismaSchemaText } from '../../src/cache/keys.ts';
import { countSubscribers } from '../../src/redis/slots.ts';
import { endpoint } from '../cache/kit.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, rawRedis, signIn, waitUntil } from '../support/kit.ts';

export const PRODUCT = 'query P($id: ID!) { product(id: $id) { id name } }';
export const UPDATE = 'mutation U($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { id } }';
const IDS = Array.from({ length: 40 }, (_, i) => String(i + 1));
const READERS = 8;

export interface GatewayPair {
  a: TestGateway;
  b: TestGateway;
  stop(): Promise<void>;
}

/**
 * Two gateways on one prefix over a fresh copy of the template database and the Redis that `start`
 * brings up (its handle is passed to `env` for the gateway's variables, and destroyed by stop()).
 */
export async function startPair<R extends { destroy(): Promise<void> }>(
  start: () => Promise<R>,
  env: (redis: R) => Record<string, string>,
  adminUrl: string,
  template: string,
): Promise<GatewayPair & { redis: R }> {
  let database: TestDatabase | undefined;
  let redis: R | undefined;
  const gateways: TestGateway[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await Promise.allSettled([redis?.destroy(), database?.drop()]);
  };
  try {
    [redis, database] = await Promise.all([start(), createDatabaseFromTemplate(adminUrl, template)]);
    const options = { databaseUrl: database.url, cachePrefix: randomPrefix(), env: env(redis) };
    gateways.push(await startTestGateway(options), await startTestGateway(options));
  } catch (error) {
    await stop();
    throw error;
  }
  return { a: gateways[0]!, b: gateways[1]!, redis, stop };
}

interface Readiness {
  redis: string;
  redisCircuit?: string;
  redisNodesDown?: string[];
}

async function readiness(gateway: TestGateway): Promise<Readiness> {
  return (await fetch(endpoint(gateway, '/readyz'))).json() as Promise<Readiness>;
}

/** Redis in full use again: the circuit closed and no cluster node's slots refused (node-guard.ts). */
async function usesRedis(gateway: TestGateway): Promise<boolean> {
  const state = await readiness(gateway);
  return state.redisCircuit === 'closed' && !state.redisNodesDown?.length;
}

/**
 * Warms the products, then reads them from both gateways with READERS concurrent clients while `fault`
 * runs (it resolves once Redis has recovered), until both circuits are closed again and 200 more reads
 * went through. Returns the failed reads (expected: none), the fault's result, the p99 and the slowest (ms).
 */
export async function readThrough<T>(
  gateways: [TestGateway, TestGateway],
  fault: () => Promise<T>,
): Promise<{ failures: string[]; result: T; reads: number; p99: number; slowest: number }> {
  for (const id of IDS) dataOf(await gateways[0].query(PRODUCT, { id }));
  const failures: string[] = [];
  const latencies: number[] = [];
  let reading = true;
  const reader = async (n: number): Promise<void> => {
    for (let i = n; reading; i += 1) {
      const started = performance.now();
      const reply = await gateways[i % 2]!.query(PRODUCT, { id: IDS[i % IDS.length]! }).catch((e: Error) => e);
      latencies.push(performance.now() - started);
      if (reply instanceof Error) failures.push(reply.message);
      else if (reply.status !== 200 || reply.body.errors || !reply.body.data?.product)
        failures.push(`${reply.status} ${JSON.stringify(reply.body.errors)}`);
    }
  };
  const readers = Array.from({ length: READERS }, (_, n) => reader(n));
  await waitUntil(() => latencies.length > 200, 30_000, 'reads before the fault');
  const result = await fault();
  for (const gateway of gateways)
    await waitUntil(() => usesRedis(gateway), 30_000, 'the circuit to close and every slot to be served');
  const recovered = latencies.length;
  await waitUntil(() => latencies.length > recovered + 200, 30_000, 'reads after recovery');
  reading = false;
  await Promise.all(readers);
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  return { failures, result, reads: latencies.length, p99, slowest: latencies.at(-1)! };
}

/**
 * Both gateways use the new primary: Redis is up for them, a fill from B lands in Redis, and a write on
 * A reaches B's L1 over the bus (B would serve its old copy if its subscription had not moved).
 */
export async function expectFollowed(a: TestGateway, b: TestGateway, redisUrl: string): Promise<void> {
  for (const gateway of [a, b]) expect(await readiness(gateway)).toMatchObject({ redis: 'up', redisCircuit: 'closed' });
  const redis = rawRedis(redisUrl);
  await redis.connect();
  try {
    const key = createKeyBuilder(a.cachePrefix, readPrismaSchemaText()).entityKey('Product', '77');
    dataOf(await b.query(PRODUCT, { id: '77' }));
    await waitUntil(async () => (await redis.exists(key)) === 1, 5_000, 'the fill to reach the new primary');
    // Following includes moving the bus subscriptions: until both are back on the channel's (new) owner, a
    // write cannot reach the other instance at once (it drops its copies when its subscription returns).
    const channel = `${a.cachePrefix}:${INVALIDATION_TOPIC}`;
    await waitUntil(async () => (await countSubscribers(redis, channel)) >= 2, 10_000, 'both bus subscriptions');
  } finally {
    redis.disconnect();
  }
  dataOf(await b.query(PRODUCT, { id: '3' })); // in B's L1 now
  const admin = (await signIn(a.url)).headers;
  dataOf(await a.query(UPDATE, { id: '3', name: 'After the failover' }, admin));
  // Seen at once on both: after a failover no instance keeps a copy the write cannot reach (a stored answer
  // whose index entry the old master lost is dropped with the rest: src/redis/failover-watch.ts).
  for (const gateway of [b, a])
    expect(dataOf(await gateway.query<{ product: { name: string } }>(PRODUCT, { id: '3' })).product.name).toBe(
      'After the failover',
    );
}
