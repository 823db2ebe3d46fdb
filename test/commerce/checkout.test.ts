// Checkout never oversells: 100 shoppers buying the last 10 units at once, spread over two instances,
// get exactly 10 orders, and the same holds with redis-server stopped (PostgreSQL is the only judge of
// stock). A retried checkout returns its order; totals, shipping and address checks; orders are private;
// and inventoryChanged reaches a subscriber on the other instance.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { afterChangesSettle } from '../support/settle.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { EMAILS } from '../accounts/kit.ts';
import { rawRedis, signIn } from '../support/kit.ts';
import { encode } from '../../src/cache/codec.ts';
import {
  addressIn,
  addToCart,
  checkout,
  checkoutAll,
  codesOf,
  createShoppers,
  fillCarts,
  dataOf,
  gql,
  productWithStock,
  sqlRows,
  watchStock,
  type Address,
  type Shopper,
} from './kit.ts';

let database: TestDatabase;
let redisServer: RedisServer;
let a: TestGateway;
let b: TestGateway;
let address: Address;

const STOCK = `query Stock($id: ID!) { product(id: $id) { salesCount inventory { onHand available } } }`;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  redisServer = await startRedis();
  a = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url });
  b = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url, cachePrefix: a.cachePrefix });
  address = await addressIn(database.url);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redisServer?.destroy();
  await database?.drop();
});

async function stockRow(productId: number) {
  const [row] = await sqlRows<{ onHand: number; salesCount: number; orders: number }>(
    database.url,
    `SELECT i."onHand", p."salesCount",
            (SELECT count(*)::int FROM "OrderItem" oi WHERE oi."productId" = p.id) AS orders
       FROM "Product" p JOIN "Inventory" i ON i."productId" = p.id WHERE p.id = $1`,
    [productId],
  );
  return row!;
}

/** 100 shoppers with one unit of the product in their carts, and the product's stock cached. */
async function hundredCarts(gateway: TestGateway, productId: number): Promise<Shopper[]> {
  const shoppers = await createShoppers(database.url, 100);
  await fillCarts(database.url, shoppers, productId);
  dataOf(await gql(gateway.url, STOCK, { id: String(productId) }));
  return shoppers;
}

function expectTenOrders(result: Awaited<ReturnType<typeof checkoutAll>>, productId: number): void {
  expect(result.orders).toHaveLength(10);
  expect(result.refusals).toHaveLength(90);
  expect(new Set(result.refusals)).toEqual(new Set(['OUT_OF_STOCK']));
  for (const order of result.orders) expect(order.items).toMatchObject([{ productId: String(productId), quantity: 1 }]);
}

describe('100 concurrent checkouts of a product with 10 units', () => {
  it('make exactly 10 orders across two instances; 90 get OUT_OF_STOCK; stock ends at 0 everywhere', async () => {
    const productId = await productWithStock(database.url, 10, 0);
    const before = await stockRow(productId);
    const shoppers = await hundredCarts(a, productId);
    dataOf(await gql(b.url, STOCK, { id: String(productId) })); // b caches the 10 units too
    const half = shoppers.length / 2;
    const [first, second] = await Promise.all([
      checkoutAll(a, shoppers.slice(0, half), address),
      checkoutAll(b, shoppers.slice(half), address),
    ]);
    expectTenOrders(
      {
        orders: [...first.orders, ...second.orders],
        refusals: [...first.refusals, ...second.refusals],
        replies: [],
      },
      productId,
    );
    const after = await stockRow(productId);
    expect(after).toEqual({ onHand: 0, salesCount: before.salesCount + 10, orders: before.orders + 10 });
    for (const gateway of [a, b]) {
      const data = dataOf(await gql(gateway.url, STOCK, { id: String(productId) }));
      expect(data.product).toEqual({ salesCount: before.salesCount + 10, inventory: { onHand: 0, available: 0 } });
    }
  }, 90_000);
});

describe('idempotency', () => {
  it('the same key twice, one after the other and at once, gives one order', async () => {
    const productId = await productWithStock(database.url, 50, 2);
    const [shopper, racer] = await createShoppers(database.url, 2);
    await addToCart(a, shopper!, productId, 2);
    const first = dataOf(await checkout(a, shopper!, address, 'retry-key-0001')).checkout;
    const again = dataOf(await checkout(b, shopper!, address, 'retry-key-0001')).checkout;
    expect(again).toEqual(first);
    await addToCart(a, racer!, productId, 1);
    const replies = await Promise.all(
      [1, 2, 3, 4].map((n) => checkout(n % 2 ? a : b, racer!, address, 'race-key-0001')),
    );
    const ids = replies.map((r) => dataOf(r).checkout.id);
    expect(new Set(ids).size).toBe(1);
    const [row] = await sqlRows<{ n: number }>(
      database.url,
      'SELECT count(*)::int AS n FROM "Order" WHERE "userId" = ANY($1::uuid[])',
      [[shopper!.userId, racer!.userId]],
    );
    expect(row?.n).toBe(2);
    expect((await stockRow(productId)).onHand).toBe(47);
  });
});

describe('orders', () => {
  it('freeze the tier price, add the zone shipping fee, and are visible to their owner only', async () => {
    const productId = await productWithStock(database.url, 20, 3);
    const [silver] = await createShoppers(database.url, 1, 'SILVER');
    const [other] = await createShoppers(database.url, 1);
    const [price] = await sqlRows<{ amount: string; weight: number }>(
      database.url,
      `SELECT coalesce(mp.price, p.price)::text AS amount, p."weightGrams" AS weight FROM "Product" p
         LEFT JOIN "MemberPrice" mp ON mp."productId" = p.id AND mp.tier = 'SILVER' WHERE p.id = $1`,
      [productId],
    );
    await addToCart(a, silver!, productId, 3);
    const sabah = await addressIn(database.url, 'SBH');
    const order = dataOf(await checkout(a, silver!, sabah, 'order-key-0001')).checkout;
    const [zone] = await sqlRows<{ first: string; extra: string }>(
      database.url,
      `SELECT "firstKgFee"::text AS first, "extraKgFee"::text AS extra FROM "ShippingZone" WHERE code = 'SABAH'`,
    );
    const kilograms = Math.max(1, Math.ceil((price!.weight * 3) / 1000));
    const fee = Number(zone!.first) + Number(zone!.extra) * (kilograms - 1);
    const subtotal = Number(price!.amount) * 3;
    expect(order).toMatchObject({
      status: 'PLACED',
      tier: 'SILVER',
      shippingZone: 'SABAH',
      subtotal: subtotal.toFixed(2),
      shippingFee: fee.toFixed(2),
      total: (subtotal + fee).toFixed(2),
      items: [{ productId: String(productId), quantity: 3, unitPrice: price!.amount }],
    });
    // The cart is empty afterwards, on both instances.
    for (const gateway of [a, b])
      expect(dataOf(await gql(gateway.url, '{ cart { itemCount } }', {}, silver!.headers))).toEqual({
        cart: { itemCount: 0 },
      });
    const ORDER = `query ($id: ID!) { order(id: $id) { id total } myOrders(first: 5) { nodes { id } } }`;
    expect(dataOf(await gql(b.url, ORDER, { id: order.id }, silver!.headers))).toEqual({
      order: { id: order.id, total: order.total },
      myOrders: { nodes: [{ id: order.id }] },
    });
    expect(dataOf(await gql(b.url, ORDER, { id: order.id }, other!.headers))).toEqual({
      order: null,
      myOrders: { nodes: [] },
    });
    expect(codesOf(await gql(b.url, ORDER, { id: order.id }))).toContain('UNAUTHENTICATED');
  });

  it('refuse an address whose city or state does not belong to the postcode, and an empty cart', async () => {
    const productId = await productWithStock(database.url, 5, 4);
    const [shopper] = await createShoppers(database.url, 1);
    await addToCart(a, shopper!, productId, 1);
    const sabah = await addressIn(database.url, 'SBH');
    for (const wrong of [
      { ...address, city: sabah.city },
      { ...address, state: 'Sabah' },
      { ...address, postcode: '00000' },
      { ...address, postcode: '5000' },
      { ...address, line1: 'Lot 5\u0000' },
      { ...address, line1: ' ' },
    ]) {
      const reply = await checkout(a, shopper!, wrong, 'wrong-address-1');
      expect(codesOf(reply), JSON.stringify(wrong)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stockRow(productId)).onHand).toBe(5);
    const [empty] = await createShoppers(database.url, 1);
    expect(codesOf(await checkout(a, empty!, address, 'empty-cart-01'))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('inventoryChanged', () => {
  it('reaches a subscriber on another instance after a checkout there', async () => {
    const productId = await afterChangesSettle([a, b], () => productWithStock(database.url, 7, 5));
    const [shopper] = await createShoppers(database.url, 1);
    await addToCart(a, shopper!, productId, 2);
    const watcher = await watchStock(b, redisServer.url, productId);
    try {
      dataOf(await checkout(a, shopper!, address, 'live-stock-01'));
      await expect(watcher.next).resolves.toEqual({
        inventoryChanged: { productId: String(productId), onHand: 5, available: 5 },
      });
    } finally {
      await watcher.dispose();
    }
  });

  it('reaches it after a restock too', async () => {
    const productId = await afterChangesSettle([a, b], () => productWithStock(database.url, 3, 6));
    const admin = (await signIn(b.url, EMAILS.platform)).headers;
    const watcher = await watchStock(a, redisServer.url, productId);
    try {
      const restock = `mutation ($id: ID!) { restock(productId: $id, quantity: 4) { onHand } }`;
      expect(dataOf(await gql(b.url, restock, { id: String(productId) }, admin))).toEqual({ restock: { onHand: 7 } });
      await expect(watcher.next).resolves.toEqual({
        inventoryChanged: { productId: String(productId), onHand: 7, available: 7 },
      });
    } finally {
      await watcher.dispose();
    }
  });
});

describe('inventoryChanged out of order', () => {
  it('a push that arrives after a newer one, with an older row, is sent as the stock is now', async () => {
    // Two checkouts on two instances, or a checkout and the change feed, push the rows they read; the
    // later change's push can arrive first. Here the older row comes straight onto the channel.
    const productId = await afterChangesSettle([a, b], () => productWithStock(database.url, 3, 7));
    const watcher = await watchStock(a, redisServer.url, productId);
    const redis = rawRedis(redisServer.url);
    try {
      await redis.connect();
      const older = { productId, onHand: 9, reserved: 0, updatedAt: new Date(0) };
      await redis.publish(`${a.cachePrefix}:inventory:${productId}`, encode(older));
      await expect(watcher.next).resolves.toEqual({
        inventoryChanged: { productId: String(productId), onHand: 3, available: 3 },
      });
    } finally {
      redis.disconnect();
      await watcher.dispose();
    }
  });
});

describe('with redis-server stopped', () => {
  it('100 concurrent checkouts of 10 units still make exactly 10 orders', async () => {
    const productId = await productWithStock(database.url, 10, 1);
    const shoppers = await createShoppers(database.url, 100);
    await fillCarts(database.url, shoppers, productId);
    await redisServer.stop();
    try {
      const result = await checkoutAll(a, shoppers, address);
      expectTenOrders(result, productId);
      expect((await stockRow(productId)).onHand).toBe(0);
      expect(dataOf(await gql(a.url, STOCK, { id: String(productId) })).product.inventory).toEqual({
        onHand: 0,
        available: 0,
      });
    } finally {
      await redisServer.start();
    }
  }, 90_000);
});
