// /metrics exposes what an operator needs to see the entity cache work: lookups by layer (l1, redis,
// db) and result, loader batch sizes, SQL statements in total and per request, Redis errors and the
// circuit state. Driven by real traffic against a private redis-server, including a short outage.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { endpoint, parsePrometheus, metricSum, type Sample, type TestGateway } from './kit.ts';
import { dataOf, waitUntil } from '../support/kit.ts';

const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name category { name } } }';

let redisServer: RedisServer;
let gateway: TestGateway;
let other: TestGateway;

async function scrape(gw: TestGateway): Promise<{ text: string; samples: Sample[]; types: Map<string, string> }> {
  const response = await fetch(endpoint(gw, '/metrics'));
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, ...parsePrometheus(text) };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  find(samples, name, labels).reduce((sum, s) => sum + s.value, 0);

beforeAll(async () => {
  redisServer = await startRedis();
  const cachePrefix = randomPrefix();
  // Lookups of the entity layers are counted: no stored answers in front of them.
  const options = { databaseUrl: inject('databaseUrl'), redisUrl: redisServer.url, cachePrefix };
  gateway = await startTestGateway({ ...options, env: { RESPONSE_CACHE: 'false' } });
  other = await startTestGateway({ ...options, env: { RESPONSE_CACHE: 'false' } });
});

afterAll(async () => {
  await Promise.allSettled([gateway?.stop(), other?.stop()]);
  await redisServer?.destroy();
});

describe('/metrics', () => {
  it('registers every cache metric, even before any traffic', async () => {
    const { types } = await scrape(gateway);
    expect(
      Object.fromEntries(
        [...types].filter(([name]) => name.startsWith('cachegate_') && !name.startsWith('cachegate_process_')),
      ),
    ).toMatchObject({
      cachegate_cache_lookups_total: 'counter',
      cachegate_loader_batch_size: 'histogram',
      cachegate_db_queries_total: 'counter',
      cachegate_loader_fetches_per_request: 'histogram',
      cachegate_redis_errors_total: 'counter',
      cachegate_redis_circuit_open: 'gauge',
    });
  });

  it('counts cache lookups by layer l1 / redis / db, batch sizes and loader fetches per request', async () => {
    dataOf(await gateway.query(PRODUCT, { id: '1' })); // cold: l1 miss, redis miss, db
    dataOf(await gateway.query(PRODUCT, { id: '1' })); // l1 hit, no SQL
    dataOf(await other.query(PRODUCT, { id: '2' })); // another instance fills Redis ...
    dataOf(await gateway.query(PRODUCT, { id: '2' })); // ... so this one is an l1 miss and a redis hit

    const { samples } = await scrape(gateway);
    const lookups = (layer: string, result: string): number =>
      total(samples, 'cachegate_cache_lookups_total', { layer, type: 'Product', result });
    expect(lookups('l1', 'hit')).toBeGreaterThanOrEqual(1);
    expect(lookups('l1', 'miss')).toBeGreaterThanOrEqual(2);
    expect(lookups('redis', 'hit')).toBeGreaterThanOrEqual(1);
    expect(lookups('redis', 'miss')).toBeGreaterThanOrEqual(1);
    expect(lookups('db', 'miss')).toBeGreaterThanOrEqual(1);
    expect(new Set(find(samples, 'cachegate_cache_lookups_total').map((s) => s.labels.layer))).toEqual(
      new Set(['l1', 'redis', 'db']),
    );

    expect(total(samples, 'cachegate_loader_batch_size_count', { type: 'Product' })).toBeGreaterThanOrEqual(2);
    expect(total(samples, 'cachegate_loader_batch_size_sum', { type: 'Product' })).toBeGreaterThanOrEqual(2);

    // One counter increment per statement Prisma sent: the same number the test harness saw.
    expect(total(samples, 'cachegate_db_queries_total')).toBe(gateway.sql.length);
    expect(total(samples, 'cachegate_db_queries_total')).toBeGreaterThanOrEqual(2);
    expect(total(samples, 'cachegate_loader_fetches_per_request_count')).toBeGreaterThanOrEqual(3);
    expect(
      total(samples, 'cachegate_loader_fetches_per_request_bucket', { le: '0' }),
      'the warm request read nothing from PostgreSQL',
    ).toBeGreaterThanOrEqual(1);
    expect(total(samples, 'cachegate_redis_circuit_open')).toBe(0);
  });

  it('counts Redis errors and shows the circuit open during an outage, closed again after', async () => {
    await redisServer.stop();
    try {
      await waitUntil(
        async () => (await metricSum(gateway.metrics.redisCircuitOpen)) === 1,
        5_000,
        'the circuit to open',
      );
      dataOf(await gateway.query(PRODUCT, { id: '3' })); // cold while Redis is down: PostgreSQL answers
      const { samples } = await scrape(gateway);
      expect(total(samples, 'cachegate_redis_circuit_open')).toBe(1);
      const errors = find(samples, 'cachegate_redis_errors_total');
      expect(
        errors.reduce((sum, s) => sum + s.value, 0),
        JSON.stringify(errors),
      ).toBeGreaterThanOrEqual(1);
      expect(errors.every((s) => typeof s.labels.operation === 'string' && s.labels.operation !== '')).toBe(true);
    } finally {
      await redisServer.start();
    }
    await waitUntil(
      async () => (await metricSum(gateway.metrics.redisCircuitOpen)) === 0,
      15_000,
      'the circuit to close',
    );
    const { samples } = await scrape(gateway);
    expect(total(samples, 'cachegate_redis_circuit_open')).toBe(0);
  }, 30_000);
});
