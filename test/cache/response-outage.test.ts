// The response cache on a private redis-server: a hit served from L1 sends no Redis command at all, and
// with redis-server stopped hits keep coming from L1 and misses from PostgreSQL, with no failed request.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { metricSum, type TestGateway } from './kit.ts';
import { rawRedis, waitUntil } from '../support/kit.ts';
import { post, resolverCounter } from './response-kit.ts';

const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name basePrice inventory { available } } }';

let redisServer: RedisServer;
let database: TestDatabase;
let gateway: TestGateway;
const counter = resolverCounter();

const product = (id: string) => post(gateway, { query: PRODUCT, variables: { id } });

/**
 * Commands redis-server has processed so far (INFO counts itself too), less what runs on timers whatever
 * the requests do: the PINGs of the circuit's latency watch and the PUBLISH of the bus's probe.
 */
async function commandsProcessed(): Promise<number> {
  const redis = rawRedis(redisServer.url);
  try {
    await redis.connect();
    const info = await redis.info('commandstats');
    let calls = 0;
    for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (name !== 'ping' && name !== 'publish') calls += Number(count);
    }
    return calls;
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  redisServer = await startRedis();
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gateway = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url, plugins: [counter.plugin] });
});

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
  await redisServer?.destroy();
});

describe('a hit in L1', () => {
  it('sends no Redis command and runs no resolver', async () => {
    for (const id of ['1', '2']) expect((await product(id)).cache).toBe('MISS');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the stores' Redis scripts are done
    // Baseline: what two INFO calls cost with nothing in between.
    const idle = -(await commandsProcessed()) + (await commandsProcessed());
    counter.reset();
    const before = await commandsProcessed();
    for (let i = 0; i < 20; i += 1) expect((await product(i % 2 === 0 ? '1' : '2')).cache).toBe('HIT');
    const after = await commandsProcessed();
    expect(after - before, 'Redis commands during 20 L1 hits').toBe(idle);
    expect(counter.calls).toBe(0);
  });
});

describe('redis-server stopped', () => {
  it('hits keep coming from L1 and misses from PostgreSQL, with no failed request', async () => {
    const warm = ['3', '4', '5'];
    for (const id of warm) await product(id);
    await redisServer.stop();
    const answers = [];
    for (let round = 0; round < 3; round += 1) {
      for (const id of warm) answers.push({ id, answer: await product(id) });
      for (const id of [`${40 + round}`, `${50 + round}`]) answers.push({ id, answer: await product(id) });
    }
    for (const { id, answer } of answers) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json.errors).toBeUndefined();
      expect(answer.json.data.product.id).toBe(id);
    }
    const warmAnswers = answers.filter(({ id }) => warm.includes(id)).map(({ answer }) => answer.cache);
    expect(warmAnswers.every((cache) => cache === 'HIT')).toBe(true);
    // Misses went to PostgreSQL and were stored in L1: the second read of a cold id is a hit.
    gateway.sql.length = 0;
    expect((await product('40')).cache).toBe('HIT');
    expect(gateway.sql).toEqual([]);
    await redisServer.start();
    await waitUntil(async () => (await metricSum(gateway.metrics.redisCircuitOpen)) === 0, 10_000, 'circuit closed');
    expect((await product('60')).status).toBe(200);
  }, 30_000);
});
