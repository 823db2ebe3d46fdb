// Stampede protection with real concurrency: 50 simultaneous HTTP requests for one cold product cost
// exactly one SQL query on one instance (cross-request coalescing), and a bounded number (at most 2,
// ideally 1) when split across two instances sharing Redis (the SET NX fill lock).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { showSql, tableOf, type GraphQLResponse, type TestGateway } from './kit.ts';
import { dataOf } from '../support/kit.ts';

const PRODUCT = /* GraphQL */ `
  query Product($id: ID!) { product(id: $id) { id name basePrice } }
`;

interface ProductData {
  product: { id: string; name: string; basePrice: string } | null;
}

const CONCURRENCY = 50;

const productQueries = (sql: readonly string[]): string[] => sql.filter((s) => tableOf(s) === 'Product');

let single: TestGateway;
let pairA: TestGateway;
let pairB: TestGateway;

beforeAll(async () => {
  const databaseUrl = inject('databaseUrl');
  const redisUrl = inject('redisUrl');
  single = await startTestGateway({ databaseUrl, redisUrl });
  const pairPrefix = randomPrefix();
  pairA = await startTestGateway({ databaseUrl, redisUrl, cachePrefix: pairPrefix });
  pairB = await startTestGateway({ databaseUrl, redisUrl, cachePrefix: pairPrefix });
  // Warm up connections, the schema and Prisma's pool on a different product, so the measured burst is
  // about the cache and not about first-request set-up.
  await Promise.all(
    [single, pairA, pairB].map(async (gw) => dataOf(await gw.query<ProductData>(PRODUCT, { id: '1' }))),
  );
});

afterAll(async () => {
  await Promise.allSettled([single?.stop(), pairA?.stop(), pairB?.stop()]);
});

function expectAllFound(responses: GraphQLResponse<ProductData>[], id: string): void {
  for (const response of responses) expect(dataOf(response).product?.id).toBe(id);
  const names = new Set(responses.map((r) => r.body.data?.product?.name));
  expect(names.size).toBe(1);
}

describe('concurrent requests for one cold product', () => {
  it(`${CONCURRENCY} concurrent requests to one instance cause exactly one SQL query against "Product"`, async () => {
    const id = '77';
    single.sql.length = 0;
    const responses = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => single.query<ProductData>(PRODUCT, { id })),
    );
    const sql = [...single.sql];
    expectAllFound(responses, id);
    console.log(
      `[coalescing] one instance, ${CONCURRENCY} concurrent: ${productQueries(sql).length} Product queries ` +
        `(${sql.length} statements)`,
    );
    expect(productQueries(sql), showSql(sql)).toHaveLength(1);
  });

  it(
    `${CONCURRENCY} concurrent requests split across two instances sharing Redis cause at most 2 "Product" ` +
      `queries`,
    async () => {
      const id = '78';
      pairA.sql.length = 0;
      pairB.sql.length = 0;
      const responses = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) =>
          (i % 2 === 0 ? pairA : pairB).query<ProductData>(PRODUCT, { id }),
        ),
      );
      const sqlA = productQueries(pairA.sql);
      const sqlB = productQueries(pairB.sql);
      expectAllFound(responses, id);
      console.log(
        `[coalescing] two instances, ${CONCURRENCY} concurrent: ` +
          `${sqlA.length} + ${sqlB.length} Product queries (A + B)`,
      );
      expect(sqlA.length, `A:\n${showSql(pairA.sql)}`).toBeLessThanOrEqual(1);
      expect(sqlB.length, `B:\n${showSql(pairB.sql)}`).toBeLessThanOrEqual(1);
      expect(sqlA.length + sqlB.length).toBeGreaterThanOrEqual(1);
      expect(sqlA.length + sqlB.length).toBeLessThanOrEqual(2);
    },
  );
});

describe('concurrent requests for different cold products', () => {
  it('requests missing different keys in the same moment share SQL queries instead of one each', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => String(200 + i));
    single.sql.length = 0;
    const responses = await Promise.all(ids.map((id) => single.query<ProductData>(PRODUCT, { id })));
    const sql = [...single.sql];
    for (const [i, response] of responses.entries()) expect(dataOf(response).product?.id).toBe(ids[i]);
    console.log(
      `[coalescing] ${ids.length} concurrent requests for distinct cold products: ${productQueries(sql).length} ` +
        `Product queries`,
    );
    // Requests arrive over a few ticks, so a few batches; without cross-request batching it would be 20.
    expect(productQueries(sql).length, showSql(sql)).toBeLessThan(ids.length / 2);
  });
});
