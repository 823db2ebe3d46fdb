// Read-your-writes across instances: two gateways share one Redis and one (private) database, both with
// warm L1s. A write through instance A is visible at once on A and on B, for the entity, for list pages
// and for counts; a deleted product disappears from both; Decimals survive the cache exactly.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { withPg, type TestGateway } from './kit.ts';
import { dataOf, signIn } from '../support/kit.ts';

const PRODUCT = /* GraphQL */ `
  query Product($id: ID!) { product(id: $id) { id name basePrice price { amount } } }
`;
const PAGE = /* GraphQL */ `
  query Cheapest { products(first: 5, sort: PRICE_ASC) { totalCount nodes { id name basePrice } } }
`;
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name basePrice } }
`;
const DELETE = /* GraphQL */ `
  mutation Delete($id: ID!) { deleteProduct(id: $id) }
`;

interface ProductData {
  product: { id: string; name: string; basePrice: string; price: { amount: string } } | null;
}
interface PageData {
  products: { totalCount: number; nodes: { id: string; name: string; basePrice: string }[] };
}

let database: TestDatabase;
let cachePrefix: string;
let a: TestGateway;
let b: TestGateway;
let admin: Record<string, string>;

const readProduct = async (gw: TestGateway, id: string) => dataOf(await gw.query<ProductData>(PRODUCT, { id })).product;
const readPage = async (gw: TestGateway) => dataOf(await gw.query<PageData>(PAGE)).products;

/** Reads twice: the second read is served by the instance's own L1 (warms both layers). */
async function warm<T>(read: () => Promise<T>): Promise<T> {
  await read();
  return read();
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  cachePrefix = randomPrefix();
  a = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix });
  b = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix });
  admin = (await signIn(a.url)).headers;
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

describe('a write through instance A', () => {
  it('updateProduct: the new name and price are seen at once on A and on B, whose L1s were warm', async () => {
    const id = '12';
    const before = await warm(() => readProduct(a, id));
    expect(await warm(() => readProduct(b, id))).toEqual(before);

    const name = `Read-your-writes ${Date.now()}`;
    const updated = dataOf(
      await a.query<{ updateProduct: { name: string; basePrice: string } }>(
        UPDATE,
        { id, input: { name, price: '1234.50' } },
        admin,
      ),
    );
    expect(updated.updateProduct).toMatchObject({ name, basePrice: '1234.50' });

    const [onA, onB] = [await readProduct(a, id), await readProduct(b, id)];
    expect(onA, 'instance A (the writer) still serves the old product').toMatchObject({ name, basePrice: '1234.50' });
    expect(onB, 'instance B serves the old product from its L1 or Redis').toMatchObject({ name, basePrice: '1234.50' });
  });

  it('price 0.01 moves the product to the top of the cached PRICE_ASC page on both instances', async () => {
    const beforeA = await warm(() => readPage(a));
    const beforeB = await warm(() => readPage(b));
    expect(beforeB).toEqual(beforeA);
    const cheapest = beforeA.nodes[0]!;
    expect(cheapest.basePrice).not.toBe('0.01');
    const id = '250';
    expect(beforeA.nodes.map((n) => n.id)).not.toContain(id);

    dataOf(await a.query(UPDATE, { id, input: { price: '0.01' } }, admin));

    for (const [label, gw] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const page = await readPage(gw);
      expect(page.nodes[0], `instance ${label} serves the page cached before the write`).toMatchObject({
        id,
        basePrice: '0.01',
      });
      expect(page.nodes[1]?.id, `instance ${label}`).toBe(cheapest.id);
      expect(page.totalCount).toBe(beforeA.totalCount);
    }
  });

  it(
    'deleteProduct: totalCount drops, the product leaves the page and product(id) is null, on both ' + 'instances',
    async () => {
      const beforeA = await warm(() => readPage(a));
      const beforeB = await warm(() => readPage(b));
      expect(beforeB).toEqual(beforeA);
      const victim = beforeA.nodes[1]!.id;
      await warm(() => readProduct(a, victim));
      await warm(() => readProduct(b, victim));

      expect(dataOf(await a.query<{ deleteProduct: boolean }>(DELETE, { id: victim }, admin)).deleteProduct).toBe(true);

      for (const [label, gw] of [
        ['A', a],
        ['B', b],
      ] as const) {
        const page = await readPage(gw);
        expect(page.totalCount, `instance ${label} serves the count cached before the delete`).toBe(
          beforeA.totalCount - 1,
        );
        expect(
          page.nodes.map((n) => n.id),
          `instance ${label}`,
        ).not.toContain(victim);
        expect(page.nodes).toHaveLength(5);
        expect(await readProduct(gw, victim), `instance ${label} still serves the deleted product`).toBeNull();
      }
    },
  );

  it('Decimal round-trip: a price of "1234.50" comes back as the string "1234.50" from every cache layer', async () => {
    const id = '12'; // set to 1234.50 by the first test
    const [row] = await withPg(
      database.url,
      async (c) =>
        (await c.query<{ price: string }>('SELECT price::text AS price FROM "Product" WHERE id = $1', [Number(id)]))
          .rows,
    );
    expect(row?.price).toBe('1234.50');

    // A and B: L1 (warm from the reads above); C: a fresh instance with an empty L1 reads Redis.
    const c = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix });
    try {
      for (const [label, gw] of [
        ['A', a],
        ['B', b],
        ['C (Redis)', c],
        ['C (L1)', c],
      ] as const) {
        const product = await readProduct(gw, id);
        expect(product?.basePrice, `instance ${label}`).toBe('1234.50');
        expect(product?.price.amount, `instance ${label}`).toBe('1234.50');
      }
      c.sql.length = 0;
      await readProduct(c, id);
      expect(c.sql).toEqual([]);
    } finally {
      await c.stop();
    }
  });
});
