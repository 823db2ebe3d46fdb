// The numbers that order invalidations (src/cache/invalidation-sequence.ts) and response-cache purges
// never go back, even when Redis loses their counters (a restart without persistence, or the flush after
// a long outage): a counter that starts again from 1 would make a new write's marks look older than what
// every instance already knows, and a fill read before that write could be stored after it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { mgetAll, unlinkAll } from '../../src/redis/slots.ts';
import { dataOf, rawRedis, signIn } from '../support/kit.ts';

const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }
`;
const READ = /* GraphQL */ `query P($id: ID!) { product(id: $id) { id name } }`;

let database: TestDatabase;
let gateway: TestGateway;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gateway = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    cachePrefix: randomPrefix(),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
});

describe('invalidation and purge counters', () => {
  it('a lost counter starts again above every number handed out before', async () => {
    const admin = (await signIn(gateway.url)).headers;
    const redis = rawRedis(inject('redisUrl'));
    await redis.connect();
    try {
      const counters = [`${gateway.cachePrefix}:inv@seq`, `${gateway.cachePrefix}:rc@seq`];
      const write = async (name: string): Promise<void> => {
        dataOf(await gateway.query(READ, { id: '5' })); // an answer for the response cache to purge
        dataOf(await gateway.query(UPDATE, { id: '5', input: { name } }, admin));
      };
      await write('counter one');
      const before = (await mgetAll(redis, counters)).map(Number);
      for (const value of before) expect(value).toBeGreaterThan(0);
      await unlinkAll(redis, counters); // what a restart without persistence does
      await write('counter two');
      const after = (await mgetAll(redis, counters)).map(Number);
      for (const [i, value] of after.entries()) expect(value).toBeGreaterThan(before[i]!);
      // And the write is still read back at once.
      expect(dataOf(await gateway.query<{ product: { name: string } }>(READ, { id: '5' })).product.name).toBe(
        'counter two',
      );
    } finally {
      redis.disconnect();
    }
  });
});
