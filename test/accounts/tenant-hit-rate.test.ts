// cacheStats(organizationId).hitRate across the cluster (src/accounts/tenant-lookups.ts): two gateways
// sharing Redis, with the response cache off so every read runs the loaders. Organization A's admin reads
// A's tenant-scoped event list (a page and a count) twice on each instance; the counts both instances
// flush to Redis add up to one rate, the same from either instance, and organization B's stays apart.
// Lookups made while redis-server is stopped wait in memory and reach Redis once it is back.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, waitUntil, type Headers } from '../support/kit.ts';
import { startRedis } from '../support/redis-server.ts';
import { EMAILS, sqlRows } from './kit.ts';

let database: TestDatabase;
let one: TestGateway;
let two: TestGateway;
const LIST = `query L($o: ID!) { events(filter: { organizationId: $o, includeDrafts: true }, first: 50) {
  totalCount nodes { id } } }`;
const STATS = `query S($o: ID) { cacheStats(organizationId: $o) { organization { lookups hits hitRate } } }`;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const options = {
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    cachePrefix: randomPrefix(),
    env: { RESPONSE_CACHE: 'false' },
  };
  [one, two] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
});

afterAll(async () => {
  await Promise.allSettled([one?.stop(), two?.stop()]);
  await database?.drop();
});

const organization = async (slug: string, email: string, gw = one) => ({
  id: (await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = $1`, [slug]))[0]!.id,
  admin: (await signIn(gw.url, email)).headers,
});

/** Waits until `gw` reports `expected` for the organization (each instance flushes about every second). */
async function rateReaches(gw: TestGateway, org: { id: string; admin: Headers }, expected: object): Promise<void> {
  let last: unknown;
  await waitUntil(
    async () => {
      const reply = await gql<{ cacheStats: { organization: object } }>(gw.url, STATS, { o: org.id }, org.admin);
      last = dataOf(reply).cacheStats.organization;
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    5_000,
    async () => `hit rate ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`,
    200,
  );
  expect(last).toEqual(expected);
}

describe('cacheStats hit rate per organization', () => {
  it("counts A's lookups on both instances into one rate, the same from either, and B's apart", async () => {
    const a = await organization('klcc-live', EMAILS.orgA);
    const b = await organization('penang-arts', EMAILS.orgB);
    await rateReaches(one, a, { lookups: 0, hits: 0, hitRate: null });

    // Cold on one (2 misses), then Redis on two (2 hits), then L1 on each (4 hits).
    one.sql.length = 0;
    dataOf(await gql(one.url, LIST, { o: a.id }, a.admin));
    expect(one.sql.filter((s) => /"Event"/.test(s)).length).toBeGreaterThan(0);
    two.sql.length = 0;
    for (const gw of [two, one, two]) dataOf(await gql(gw.url, LIST, { o: a.id }, a.admin));
    expect(two.sql.filter((s) => /"Event"/.test(s))).toEqual([]);

    const expected = { lookups: 8, hits: 6, hitRate: 0.75 };
    await rateReaches(two, a, expected);
    await rateReaches(one, a, expected);
    await rateReaches(one, b, { lookups: 0, hits: 0, hitRate: null });
    dataOf(await gql(two.url, LIST, { o: b.id }, b.admin));
    await rateReaches(one, b, { lookups: 2, hits: 0, hitRate: 0 });
    await rateReaches(one, a, expected);
  });

  it('keeps the lookups made while redis-server is stopped and adds them once it is back', async () => {
    const redis = await startRedis();
    const solo = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: redis.url,
      env: { RESPONSE_CACHE: 'false' },
    });
    try {
      const a = await organization('klcc-live', EMAILS.orgA, solo);
      await redis.stop();
      for (let i = 0; i < 3; i += 1) dataOf(await gql(solo.url, LIST, { o: a.id }, a.admin));
      // Redis came back empty: what it holds now is exactly what waited in memory (3 reads, a page and a count).
      await redis.start();
      let last: { lookups: number; hits: number } | null = null;
      await waitUntil(
        async () => {
          const reply = await gql<{ cacheStats: { organization: { lookups: number; hits: number } | null } }>(
            solo.url,
            STATS,
            { o: a.id },
            a.admin,
          );
          last = dataOf(reply).cacheStats.organization;
          return last?.lookups === 6;
        },
        15_000,
        async () => `the lookups of the outage in Redis, last ${JSON.stringify(last)}`,
        200,
      );
      expect(last).toMatchObject({ lookups: 6 });
    } finally {
      await solo.stop();
      await redis.destroy();
    }
  });
});
