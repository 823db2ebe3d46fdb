// TTLs come from the schema's @cacheControl hints (minus up to 10% jitter), values round-trip exactly
// through Redis (Decimal stays Decimal, Date stays Date), and ids that do not exist are cached as
// short-lived negative entries.
import { Decimal } from '@prisma/client/runtime/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTtlPolicy } from '../../src/cache/ttl-policy.ts';
import { decode } from '../../src/cache/codec.ts';
import { silentHooks } from '../../src/cache/cache-hooks.ts';
import { EntityCache } from '../../src/cache/entity-cache.ts';
import { createKeyBuilder, readPrismaSchemaText, type KeyBuilder } from '../../src/cache/keys.ts';
import { L1Cache } from '../../src/cache/l1-cache.ts';
import { createDatabase } from '../../src/db/prisma.ts';
import { createLoaderRuntime } from '../../src/cache/loader-factory.ts';
import { createLoaderFactory } from '../../src/graphql/loaders.ts';
import { buildSchema, readTypeDefs } from '../../src/graphql/schema.ts';
import { createRedisBus } from '../../src/realtime/event-bus.ts';
import { RedisCircuit } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, waitUntilReady } from '../../src/redis/connection.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startTestGateway } from '../support/gateway.ts';
import { dataStatements, showSql, sqlByTable, sqlDuring, withPg, type TestGateway } from './kit.ts';
import { dataOf, gql, keysMatching, rawRedis, signIn } from '../support/kit.ts';

const JITTER = 0.1;
/** PTTL is read a few ms after the SET: allow for that at the low end. */
const SLACK_MS = 2_000;

let gateway: TestGateway;
let keys: KeyBuilder;
let redis: ReturnType<typeof rawRedis>;

beforeAll(async () => {
  gateway = await startTestGateway({ databaseUrl: inject('databaseUrl'), redisUrl: inject('redisUrl') });
  keys = createKeyBuilder(gateway.cachePrefix, readPrismaSchemaText());
  redis = rawRedis(inject('redisUrl'));
  await redis.connect();
});

afterAll(async () => {
  redis?.disconnect();
  await gateway?.stop();
});

function expectTtlFromSchema(pttlMs: number, maxAgeSeconds: number, what: string): void {
  const max = maxAgeSeconds * 1000;
  expect(pttlMs, `${what}: PTTL ${pttlMs} ms, want within [${(1 - JITTER) * max}, ${max}]`).toBeGreaterThanOrEqual(
    (1 - JITTER) * max - SLACK_MS,
  );
  expect(pttlMs, `${what}: PTTL ${pttlMs} ms`).toBeLessThanOrEqual(max);
}

describe('TTLs from @cacheControl', () => {
  it('a cached Product lives 7200 s minus at most 10% jitter in Redis; an Inventory 300 s', async () => {
    dataOf(
      await gateway.query('query P($id: ID!) { product(id: $id) { id name inventory { available } } }', { id: '7' }),
    );
    const productKey = keys.entityKey('Product', '7');
    const inventoryKey = keys.entityKey('Inventory', '7');
    const [productTtl, inventoryTtl] = await Promise.all([redis.pttl(productKey), redis.pttl(inventoryKey)]);
    console.log(`[ttl] ${productKey} PTTL ${productTtl} ms; ${inventoryKey} PTTL ${inventoryTtl} ms`);
    expectTtlFromSchema(productTtl, 7200, 'Product');
    expectTtlFromSchema(inventoryTtl, 300, 'Inventory');
  });

  it('changing the directive in the SDL changes the TTL, with no other code change (policy level)', () => {
    const typeDefs = readTypeDefs();
    const original = 'type Product @cacheControl(maxAge: 7200)';
    expect(typeDefs.filter((sdl) => sdl.includes(original))).toHaveLength(1);
    const modified = typeDefs.map((sdl) => sdl.replace(original, 'type Product @cacheControl(maxAge: 60)'));

    expect(readTtlPolicy(buildSchema(typeDefs)).ttlOf('Product')).toBe(7200);
    const policy = readTtlPolicy(buildSchema(modified));
    expect(policy.ttlOf('Product')).toBe(60);
    expect(policy.ttlOf('Inventory')).toBe(300); // nothing else moved
    expect(policy.ttlOf('Query', 'products')).toBe(3600);
  });

  // startGateway() always builds its schema from schema/*.graphql (buildSchema() without arguments), so a
  // gateway cannot be started on modified SDL. The next best end-to-end proof: the real loader factory,
  // entity cache, Redis and PostgreSQL, wired as app.ts wires them, but given the modified schema's policy.
  it(
    'the loaders write Redis entries with the modified TTL (real Redis and PostgreSQL, policy from modified ' + 'SDL)',
    async () => {
      const modified = readTypeDefs().map((sdl) =>
        sdl.replace('type Product @cacheControl(maxAge: 7200)', 'type Product @cacheControl(maxAge: 60)'),
      );
      const policy = readTtlPolicy(buildSchema(modified));
      const prefix = `t${Date.now().toString(36)}`;
      const logger = createLogger('silent');
      const db = createDatabase({ url: inject('databaseUrl'), poolSize: 2 });
      const main = createRedisConnection({ url: inject('redisUrl'), name: 'ttl-test', logger });
      const subscriber = createRedisConnection({ url: inject('redisUrl'), name: 'ttl-test-sub', logger });
      expect(await waitUntilReady(main, 3_000)).toBe(true);
      const circuit = new RedisCircuit(main, { logger });
      const cache = new EntityCache({
        l1: new L1Cache({ maxBytes: 1 << 20, maxTtlSeconds: 60 }),
        redis: circuit,
        bus: createRedisBus(circuit, subscriber, prefix),
        prefix,
        logger,
      });
      try {
        const builder = createKeyBuilder(prefix, readPrismaSchemaText());
        const loaders = createLoaderFactory(
          db,
          createLoaderRuntime({ cache, keys: builder, hooks: silentHooks }),
          policy,
        )({ loaderFetches: 0 });
        expect((await loaders.product.load(8))?.id).toBe(8);
        const pttl = await redis.pttl(builder.entityKey('Product', '8'));
        console.log(`[ttl] Product with maxAge 60 in the SDL: PTTL ${pttl} ms`);
        expectTtlFromSchema(pttl, 60, 'Product (maxAge 60)');
      } finally {
        cache.stop();
        circuit.dispose();
        await Promise.allSettled([main.quit(), subscriber.quit()]);
        await db.$disconnect();
      }
    },
  );
});

describe('tag generations (lists and counts)', () => {
  // A write purges lists and counts by moving their tag to a new generation, which is part of their keys:
  // the old entries are never read again, whatever their TTL, and nothing has to list them.
  it(
    'a purge moves product lists to new keys at once: the next read goes to PostgreSQL, the old entry is left to ' +
      'expire',
    async () => {
      const page = 'query Page { products(first: 3, sort: BEST_SELLING) { totalCount nodes { id } } }';
      dataOf(await gateway.query(page));
      const before = await keysMatching(redis, `${gateway.cachePrefix}:ProductList@*`);
      const { sql: warm } = await sqlDuring(gateway, async () => dataOf(await gateway.query(page)));
      expect(dataStatements(warm), showSql(warm)).toEqual([]);

      const generationBefore = Number((await redis.get(`${gateway.cachePrefix}:tagver:Product`)) ?? 0);
      const headers = (await signIn(gateway.url)).headers;
      dataOf(await gateway.query('mutation { purgeCache(tags: ["Product"]) }', {}, headers));
      const generationAfter = Number(await redis.get(`${gateway.cachePrefix}:tagver:Product`));
      expect(generationAfter).toBeGreaterThan(generationBefore);

      const { sql: afterPurge } = await sqlDuring(gateway, async () => dataOf(await gateway.query(page)));
      expect(sqlByTable(afterPurge).Product, showSql(afterPurge)).toBeGreaterThanOrEqual(1);
      const after = await keysMatching(redis, `${gateway.cachePrefix}:ProductList@*`);
      const added = after.filter((k) => !before.includes(k));
      expect(added.length, 'the re-read page is written under a new key').toBeGreaterThanOrEqual(1);
      expect(
        added.every((k) => k.includes(`:g${generationAfter}:`)),
        added.join('\n'),
      ).toBe(true);
      for (const key of before)
        expect(await redis.pttl(key), `old entry ${key} keeps its TTL and simply goes unread`).toBeGreaterThan(0);
    },
  );
});

describe('values round-trip exactly through Redis', () => {
  it(
    'the raw Redis value of a Product decodes to a Decimal price and a Date createdAt equal to the ' + 'database',
    async () => {
      const id = 9;
      dataOf(
        await gateway.query('query P($id: ID!) { product(id: $id) { id basePrice createdAt } }', { id: String(id) }),
      );
      const text = await redis.get(keys.entityKey('Product', String(id)));
      expect(text, 'no Redis entry for the product').not.toBeNull();
      const cached = decode<{ id: number; price: unknown; createdAt: unknown; updatedAt: unknown }>(text!);

      const [row] = await withPg(
        inject('databaseUrl'),
        async (c) =>
          (
            await c.query<{ price: string; createdAt: Date; updatedAt: Date }>(
              'SELECT price::text AS price, "createdAt", "updatedAt" FROM "Product" WHERE id = $1',
              [id],
            )
          ).rows,
      );
      if (!row) throw new Error(`no product ${id}`);
      expect(cached.id).toBe(id);
      expect(Decimal.isDecimal(cached.price), `price decoded as ${typeof cached.price}: ${String(cached.price)}`).toBe(
        true,
      );
      expect((cached.price as Decimal).equals(new Decimal(row.price))).toBe(true);
      expect((cached.price as Decimal).toFixed(2)).toBe(row.price);
      expect(cached.createdAt).toBeInstanceOf(Date);
      expect((cached.createdAt as Date).getTime()).toBe(row.createdAt.getTime());
      expect((cached.updatedAt as Date).getTime()).toBe(row.updatedAt.getTime());
    },
  );
});

describe('negative caching', () => {
  it(
    'product(id: "999999") twice costs one SQL query; the negative entry is in Redis with a PTTL of at most 30 ' + 's',
    async () => {
      const query = 'query Missing { product(id: "999999") { id } }';
      const { result, sql } = await sqlDuring(gateway, async () => [
        await gateway.query<{ product: null }>(query),
        await gateway.query<{ product: null }>(query),
      ]);
      for (const response of result) expect(dataOf(response).product).toBeNull();
      expect(sqlByTable(dataStatements(sql)), showSql(sql)).toEqual({ Product: 1 });

      const key = keys.entityKey('Product', '999999');
      const [value, pttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
      console.log(`[ttl] negative entry ${key} = ${value}, PTTL ${pttl} ms`);
      expect(value).toBe('null');
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(30_000);
    },
  );
});

describe('Cache-Control for signed-in viewers', () => {
  it('the same public query is public for anonymous readers and private for a signed-in one', async () => {
    const query = '{ products(first: 2) { nodes { id } } }';
    const anonymous = await gql(gateway.url, query);
    expect(anonymous.headers.get('cache-control')).toContain('public');
    const { headers } = await signIn(gateway.url, 'admin@klcc-live.test');
    const signedIn = await gql(gateway.url, query, {}, headers);
    expect(signedIn.headers.get('cache-control')).toContain('private');
    expect(signedIn.headers.get('cache-control')).not.toContain('public');
  });
});
