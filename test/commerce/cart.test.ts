// Carts are private, kept in Redis with a 30-minute sliding TTL and written through to PostgreSQL: a cart
// made on one instance survives redis-server being stopped and started, and is read on another
// instance; lines show the member's price and the current stock, and flag what can no longer be bought.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { rawRedis } from '../support/kit.ts';
import { EMAILS } from '../accounts/kit.ts';
import { signIn } from '../support/kit.ts';
import { ADD_TO_CART, CART, codesOf, createShoppers, dataOf, gql, productWithStock, type Shopper } from './kit.ts';

let database: TestDatabase;
let redisServer: RedisServer;
let a: TestGateway;
let b: TestGateway;
let shopper: Shopper;
let products: number[];

const UPDATE = `mutation ($id: ID!, $q: Int!) { updateCartItem(productId: $id, quantity: $q) { itemCount } }`;
const REMOVE = `mutation ($id: ID!) { removeFromCart(productId: $id) { itemCount } }`;

interface CartData {
  cart: {
    itemCount: number;
    hasUnavailableItems: boolean;
    items: { quantity: number; available: number; isAvailable: boolean; product: { id: string } }[];
  };
}

const cartOf = async (gateway: TestGateway): Promise<CartData['cart']> =>
  dataOf(await gql<CartData>(gateway.url, CART, {}, shopper.headers)).cart;
const linesOf = (cart: CartData['cart']) => cart.items.map((i) => [i.product.id, i.quantity]);

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  redisServer = await startRedis();
  a = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url });
  b = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url, cachePrefix: a.cachePrefix });
  [shopper] = (await createShoppers(database.url, 1, 'GOLD')) as [Shopper];
  products = [await productWithStock(database.url, 30, 10), await productWithStock(database.url, 30, 11)];
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redisServer?.destroy();
  await database?.drop();
});

describe('cart', () => {
  it('adds, updates and removes lines, priced for the member tier', async () => {
    dataOf(await gql(a.url, ADD_TO_CART, { productId: String(products[0]), quantity: 2 }, shopper.headers));
    dataOf(await gql(a.url, ADD_TO_CART, { productId: String(products[0]), quantity: 1 }, shopper.headers));
    dataOf(await gql(a.url, ADD_TO_CART, { productId: String(products[1]), quantity: 5 }, shopper.headers));
    dataOf(await gql(a.url, UPDATE, { id: String(products[1]), q: 4 }, shopper.headers));
    const cart = await cartOf(b);
    expect(linesOf(cart)).toEqual([
      [String(products[0]), 3],
      [String(products[1]), 4],
    ]);
    expect(cart.itemCount).toBe(7);
    const full = dataOf(await gql(a.url, CART, {}, shopper.headers)).cart;
    for (const item of full.items) expect(item.unitPrice.tier).toBe('GOLD');
    dataOf(await gql(b.url, REMOVE, { id: String(products[1]) }, shopper.headers));
    expect(linesOf(await cartOf(a))).toEqual([[String(products[0]), 3]]);
  });

  it('is never cacheable by a shared cache', async () => {
    const reply = await gql(a.url, CART, {}, shopper.headers);
    dataOf(reply);
    expect(reply.headers.get('cache-control')).not.toMatch(/public/);
    expect(reply.headers.get('cache-control')).toMatch(/private|no-store/);
  });

  it('is for signed-in users, within its limits', async () => {
    expect(codesOf(await gql(a.url, CART))).toEqual(['UNAUTHENTICATED']);
    const over = { productId: String(products[0]), quantity: 97 };
    expect(codesOf(await gql(a.url, ADD_TO_CART, over, shopper.headers))).toEqual(['BAD_USER_INPUT']);
    const missing = { productId: '999999', quantity: 1 };
    expect(codesOf(await gql(a.url, ADD_TO_CART, missing, shopper.headers))).toEqual(['NOT_FOUND']);
    expect(linesOf(await cartOf(a))).toEqual([[String(products[0]), 3]]);
  });

  it('flags a line whose stock fell below its quantity', async () => {
    const admin = (await signIn(a.url, EMAILS.platform)).headers;
    const setStock = `mutation ($id: ID!) { setStock(productId: $id, onHand: 2) { available } }`;
    dataOf(await gql(a.url, setStock, { id: String(products[0]) }, admin));
    const cart = await cartOf(b);
    expect(cart.items[0]).toMatchObject({ quantity: 3, available: 2, isAvailable: false });
    expect(cart.hasUnavailableItems).toBe(true);
  });

  it('lives in Redis under a sliding TTL of at most 30 minutes', async () => {
    const redis = rawRedis(redisServer.url);
    await redis.connect();
    try {
      const key = `${a.cachePrefix}:cart:${shopper.userId}`;
      await redis.pexpire(key, 60_000);
      await cartOf(a);
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(29 * 60_000);
      expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    } finally {
      redis.disconnect();
    }
  });

  it('survives redis-server being stopped and started, read on another instance', async () => {
    const before = linesOf(await cartOf(a));
    await redisServer.stop();
    try {
      expect(linesOf(await cartOf(b))).toEqual(before);
      dataOf(await gql(b.url, ADD_TO_CART, { productId: String(products[1]), quantity: 1 }, shopper.headers));
    } finally {
      await redisServer.start(); // empty: nothing is persisted
    }
    const expected = [...before, [String(products[1]), 1]];
    expect(linesOf(await cartOf(a))).toEqual(expected);
    expect(linesOf(await cartOf(b))).toEqual(expected);
  });
});
