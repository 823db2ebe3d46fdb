// Prices by the member's own tier: an anonymous visitor gets REGULAR, a SILVER member SILVER, a customer
// asking for another member tier gets FORBIDDEN and a platform admin may ask for any. Entries are per
// tier, shared by members of a tier; setMemberPrice drops exactly the entry it changes. lowStock is for
// organization admins (their products) and platform admins (all).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeyBuilder, readPrismaSchemaText, type KeyBuilder } from '../../src/cache/keys.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS } from '../accounts/kit.ts';
import { signIn } from '../support/kit.ts';
import { rawRedis } from '../support/kit.ts';
import { codesOf, createShoppers, dataOf, gql, sqlRows, type Headers, type Shopper } from './kit.ts';

let database: TestDatabase;
let gateway: TestGateway;
let keys: KeyBuilder;
let admin: Headers;
let silver: Shopper[];
let regular: Shopper;

const PRICE = `query ($id: ID!) { product(id: $id) { basePrice price { tier amount isMemberPrice } } }`;
const PRICE_OF = `query ($id: ID!, $tier: MemberTier) { product(id: $id) { price(tier: $tier) { tier amount } } }`;

/** A product with a SILVER and a GOLD price. */
let productId: number;
let expected: { base: string; silver: string; gold: string };

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gateway = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
  keys = createKeyBuilder(gateway.cachePrefix, readPrismaSchemaText());
  admin = (await signIn(gateway.url, EMAILS.platform)).headers;
  silver = await createShoppers(database.url, 2, 'SILVER');
  [regular] = (await createShoppers(database.url, 1, 'REGULAR')) as [Shopper];
  const [row] = await sqlRows<{ id: number; base: string; silver: string; gold: string }>(
    database.url,
    `SELECT p.id, p.price::text AS base, s.price::text AS silver, g.price::text AS gold FROM "Product" p
       JOIN "MemberPrice" s ON s."productId" = p.id AND s.tier = 'SILVER'
       JOIN "MemberPrice" g ON g."productId" = p.id AND g.tier = 'GOLD'
      WHERE s.price <> p.price ORDER BY p.id LIMIT 1`,
  );
  productId = row!.id;
  expected = row!;
});

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
});

describe('Product.price', () => {
  it('is REGULAR for an anonymous visitor and SILVER for a SILVER member', async () => {
    const anonymous = dataOf(await gql(gateway.url, PRICE, { id: String(productId) }));
    expect(anonymous.product.price).toEqual({ tier: 'REGULAR', amount: expected.base, isMemberPrice: false });
    const member = dataOf(await gql(gateway.url, PRICE, { id: String(productId) }, silver[0]!.headers));
    expect(member.product.price).toEqual({ tier: 'SILVER', amount: expected.silver, isMemberPrice: true });
    expect(member.product.price.amount).not.toBe(anonymous.product.price.amount);
  });

  it('another member tier is FORBIDDEN to customers and anonymous visitors, allowed to platform admins', async () => {
    const platinum = { id: String(productId), tier: 'PLATINUM' };
    expect(codesOf(await gql(gateway.url, PRICE_OF, platinum, silver[0]!.headers))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gql(gateway.url, PRICE_OF, { ...platinum, tier: 'GOLD' }))).toEqual(['FORBIDDEN']);
    const asAdmin = dataOf(await gql(gateway.url, PRICE_OF, { id: String(productId), tier: 'GOLD' }, admin));
    expect(asAdmin.product.price).toEqual({ tier: 'GOLD', amount: expected.gold });
    // REGULAR is the public base price: anyone may ask for it.
    const base = dataOf(await gql(gateway.url, PRICE_OF, { id: String(productId), tier: 'REGULAR' }, regular.headers));
    expect(base.product.price.amount).toBe(expected.base);
  });

  it('is cached per tier, not per member: a second SILVER member reads no MemberPrice row', async () => {
    const other = await sqlRows<{ id: number }>(database.url, 'SELECT id FROM "Product" ORDER BY id DESC LIMIT 1');
    const id = String(other[0]!.id);
    dataOf(await gql(gateway.url, PRICE, { id }, silver[0]!.headers));
    gateway.sql.length = 0;
    dataOf(await gql(gateway.url, PRICE, { id }, silver[1]!.headers));
    expect(gateway.sql.filter((s) => s.includes('"MemberPrice"'))).toEqual([]);
    const redis = rawRedis(inject('redisUrl'));
    await redis.connect();
    try {
      expect(await redis.exists(keys.entityKey('MemberPrice', `${id}.SILVER`))).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});

describe('setMemberPrice', () => {
  const SET = `mutation ($id: ID!, $tier: MemberTier!, $price: Decimal!) {
    setMemberPrice(productId: $id, tier: $tier, price: $price) { tier amount isMemberPrice }
  }`;

  it('changes the tier price at once and invalidates only that tier', async () => {
    const id = String(productId);
    dataOf(await gql(gateway.url, PRICE_OF, { id, tier: 'GOLD' }, admin)); // GOLD entry cached
    const goldKey = keys.entityKey('MemberPrice', `${id}.GOLD`);
    const redis = rawRedis(inject('redisUrl'));
    await redis.connect();
    try {
      expect(await redis.exists(goldKey)).toBe(1);
      const set = dataOf(await gql(gateway.url, SET, { id, tier: 'SILVER', price: '12.34' }, admin));
      expect(set.setMemberPrice).toEqual({ tier: 'SILVER', amount: '12.34', isMemberPrice: true });
      const member = dataOf(await gql(gateway.url, PRICE, { id }, silver[1]!.headers));
      expect(member.product.price.amount).toBe('12.34');
      expect(await redis.exists(goldKey)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('is refused to customers and to admins of another organization, and for REGULAR', async () => {
    const id = String(productId);
    expect(codesOf(await gql(gateway.url, SET, { id, tier: 'GOLD', price: '1.00' }, silver[0]!.headers))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codesOf(await gql(gateway.url, SET, { id, tier: 'REGULAR', price: '1.00' }, admin))).toEqual([
      'BAD_USER_INPUT',
    ]);
    for (const price of ['-1', '1.005', '10000000000', '999999999999999'])
      expect(codesOf(await gql(gateway.url, SET, { id, tier: 'GOLD', price }, admin)), price).toEqual([
        'BAD_USER_INPUT',
      ]);
  });
});

describe('lowStock', () => {
  const LOW = `query ($t: Int!) {
    lowStock(threshold: $t, first: 100) { product { id seller { id } } inventory { available } }
  }`;

  it('lists products at or below the threshold: an organization admin sees only their own', async () => {
    const [org] = await sqlRows<{ org: string; id: number }>(
      database.url,
      'SELECT "organizationId" AS org, id FROM "Product" WHERE "organizationId" IS NOT NULL ORDER BY id LIMIT 1',
    );
    await sqlRows(database.url, 'UPDATE "Inventory" SET "onHand" = 1, reserved = 0 WHERE "productId" = $1', [org!.id]);
    const [{ email }] = (await sqlRows<{ email: string }>(
      database.url,
      `SELECT email FROM "User" WHERE role = 'ORG_ADMIN' AND "organizationId" = $1 LIMIT 1`,
      [org!.org],
    )) as [{ email: string }];
    const orgAdmin = (await signIn(gateway.url, email)).headers;
    const [expectedAll] = await sqlRows<{ n: number }>(
      database.url,
      'SELECT count(*)::int AS n FROM "Inventory" WHERE "onHand" - reserved <= 1',
    );
    const all = dataOf(await gql(gateway.url, LOW, { t: 1 }, admin)).lowStock;
    expect(all).toHaveLength(Math.min(100, expectedAll!.n));
    const own = dataOf(await gql(gateway.url, LOW, { t: 1 }, orgAdmin)).lowStock;
    expect(own.map((row: { product: { id: string } }) => row.product.id)).toContain(String(org!.id));
    for (const row of own) expect(row.product.seller?.id).toBe(org!.org);
    for (const row of [...all, ...own]) expect(row.inventory.available).toBeLessThanOrEqual(1);
    expect(codesOf(await gql(gateway.url, LOW, { t: 1 }, silver[0]!.headers))).toEqual(['FORBIDDEN']);
    expect(codesOf(await gql(gateway.url, LOW, { t: -1 }, admin))).toEqual(['BAD_USER_INPUT']);
  });
});
