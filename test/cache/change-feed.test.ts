// Writes that bypass the gateway: a plain SQL UPDATE of a product's price, run straight against
// PostgreSQL, is seen by two instances (warm L1s, stored answers) within a second, through the
// triggers' NOTIFY and the gateway's LISTEN; a stock change made in SQL reaches the stored answers too.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { withPg, type TestGateway } from './kit.ts';
import { waitUntil } from '../support/kit.ts';
import { post } from './response-kit.ts';

const PRODUCT = 'query P($id: ID!) { product(id: $id) { id basePrice inventory { onHand } } }';

let database: TestDatabase;
let instances: TestGateway[];

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  instances = [await startTestGateway(options), await startTestGateway(options)];
});

afterAll(async () => {
  await Promise.allSettled(instances.map((gw) => gw.stop()));
  await database?.drop();
});

const read = async (gw: TestGateway, id: string) => (await post(gw, { query: PRODUCT, variables: { id } })).json;

describe('a plain SQL UPDATE', () => {
  it("of a product's price is seen by both instances within 1 second", async () => {
    for (const gw of instances) for (let i = 0; i < 2; i += 1) await read(gw, '33');
    expect((await post(instances[1]!, { query: PRODUCT, variables: { id: '33' } })).cache).toBe('HIT');
    const started = performance.now();
    await withPg(database.url, (c) => c.query('UPDATE "Product" SET price = 4321.09 WHERE id = 33'));
    const seen = await Promise.all(
      instances.map((gw) =>
        waitUntil(async () => (await read(gw, '33')).data.product.basePrice === '4321.09', 1_000, 'the new price'),
      ),
    );
    console.log(`[change-feed] new price seen after ${seen.map((ms) => Math.round(ms)).join(' / ')} ms`);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('of the stock is seen by both instances within 1 second', async () => {
    for (const gw of instances) await read(gw, '34');
    await withPg(database.url, (c) => c.query('UPDATE "Inventory" SET "onHand" = 777 WHERE "productId" = 34'));
    await Promise.all(
      instances.map((gw) =>
        waitUntil(async () => (await read(gw, '34')).data.product.inventory.onHand === 777, 1_000, 'the new stock'),
      ),
    );
  });
});
