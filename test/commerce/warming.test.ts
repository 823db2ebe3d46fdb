// Cache warming: a gateway started with WARM_ON_START answers the first postcode lookup and the first
// top-product page with 0 SQL, and so does a second instance sharing its Redis (warming fills Redis
// and L1). warmCache does it again on demand, for platform admins, and cacheStats reports it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS } from '../accounts/kit.ts';
import { signIn } from '../support/kit.ts';
import { codesOf, dataOf, gql } from './kit.ts';

let warmed: TestGateway;
let peer: TestGateway;

const FIRST_VISIT = [
  `{ validatePostcode(code: "88000", city: "Kota Kinabalu", state: "Sabah") { valid matches state { name } } }`,
  `{ postcode(code: "50000") { city state { name } } }`,
  `{ shippingQuote(postcode: "93000", weightGrams: 1200) { fee zone { code } } }`,
  `{ products(first: 20, sort: BEST_SELLING) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id name basePrice price { amount } salesCount inventory { available inStock } category { name } }
    } }`,
  `{ products(first: 20, sort: NEWEST) { totalCount nodes { id name inventory { available } } } }`,
  `{ categories { name children { name } } }`,
  `{ states { code name } }`,
];

beforeAll(async () => {
  warmed = await startTestGateway({
    databaseUrl: inject('databaseUrl'),
    redisUrl: inject('redisUrl'),
    env: { WARM_ON_START: 'true' },
  });
  peer = await startTestGateway({
    databaseUrl: inject('databaseUrl'),
    redisUrl: inject('redisUrl'),
    cachePrefix: warmed.cachePrefix,
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([warmed?.stop(), peer?.stop()]);
});

describe('warming at start-up', () => {
  for (const [name, gateway] of [
    ['the warmed instance (L1)', () => warmed],
    ['a second instance (Redis)', () => peer],
  ] as const) {
    it(`${name} answers the first postcode lookups and top-product pages with 0 SQL`, async () => {
      const gw = gateway();
      for (const query of FIRST_VISIT) {
        gw.sql.length = 0;
        const data = dataOf(await gql(gw.url, query));
        expect(data).toBeTruthy();
        expect(gw.sql, query).toEqual([]);
      }
    });
  }
});

it('without warming, the same first visit reads PostgreSQL (the control)', async () => {
  const cold = await startTestGateway({ databaseUrl: inject('databaseUrl'), redisUrl: inject('redisUrl') });
  try {
    cold.sql.length = 0;
    dataOf(await gql(cold.url, FIRST_VISIT[0]!));
    expect(cold.sql.length).toBeGreaterThan(0);
  } finally {
    await cold.stop();
  }
});

describe('warmCache', () => {
  const WARM = `mutation { warmCache { trigger ms states postcodes categories products events } }`;

  it('warms on demand for platform admins and is reported in cacheStats', async () => {
    const admin = (await signIn(warmed.url, EMAILS.platform)).headers;
    const report = dataOf(await gql(warmed.url, WARM, {}, admin)).warmCache;
    expect(report).toMatchObject({ trigger: 'request', states: 16, categories: 70 });
    expect(report.postcodes).toBeGreaterThan(2000);
    expect(report.products).toBeGreaterThanOrEqual(20);
    expect(report.events).toBeGreaterThan(0);
    const stats = dataOf(
      await gql(warmed.url, '{ cacheStats { lastWarming { trigger postcodes ms } } }', {}, admin),
    ).cacheStats;
    expect(stats.lastWarming).toEqual({ trigger: 'request', postcodes: report.postcodes, ms: report.ms });
  });

  it('is refused to anyone else', async () => {
    const customer = (await signIn(warmed.url, EMAILS.customer)).headers;
    expect(codesOf(await gql(warmed.url, WARM, {}, customer))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gql(warmed.url, WARM))).toEqual(['UNAUTHENTICATED']);
  });
});
