// Redis is optional at run time: a gateway on a private redis-server keeps answering every query, fast,
// while that server is stopped in the middle of a load loop; readiness stays green with Redis reported
// down; writes commit and are visible; and when redis-server comes back the circuit closes by itself,
// Redis serves hits again and the invalidations queued during the outage are replayed.
//
// The tests in this file run in order and share the one outage.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeyBuilder, readPrismaSchemaText, type KeyBuilder } from '../../src/cache/keys.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { endpoint, metricSum, withPg, type GraphQLResponse, type TestGateway } from './kit.ts';
import { dataOf, rawRedis, signIn, sleep, waitUntil } from '../support/kit.ts';

const PRODUCT = /* GraphQL */ `
  query Product($id: ID!) { product(id: $id) { id name basePrice inventory { available } category { name } } }
`;
const PAGE = /* GraphQL */ `
  query Newest { products(first: 5, sort: NEWEST) { totalCount nodes { id name } } }
`;
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }
`;

interface ProductData {
  product: {
    id: string;
    name: string;
    basePrice: string;
    inventory: { available: number } | null;
    category: { name: string };
  } | null;
}

/** Warm before the loop (L1 + Redis); the product updated during the outage is one of them. */
const WARM_IDS = Array.from({ length: 10 }, (_, i) => String(i + 1));
const UPDATED_ID = '5';
/** The loop's cold products: 100..199, each cold the first time the loop asks for it. */
const COLD_FIRST = 100;
const COLD_COUNT = 100;
const WORKERS = 2;
const MAX_LATENCY_MS = 1_000;
/**
 * The loop sends several hundred reads a minute from 127.0.0.1: keep the per-IP rate limit out of the
 * picture. The entity layers are what this file watches, so no stored answers in front of them
 * (test/cache/response-outage.test.ts covers the response cache through an outage).
 */
const ENV = { RATE_LIMIT_READS_PER_MINUTE: '100000', RESPONSE_CACHE: 'false' };

interface Outcome {
  phase: 'before' | 'stopping' | 'outage';
  ms: number;
  status: number;
  ok: boolean;
  detail: string;
}

let redisServer: RedisServer;
let database: TestDatabase;
let gateway: TestGateway;
/** A second instance (same Redis, same prefix) whose L1 holds the updated product from before the outage. */
let peer: TestGateway;
let keys: KeyBuilder;
let admin: Record<string, string>;
/** The updated product's Redis entry before the outage: planted back to imitate a Redis that kept its data. */
let staleEntry: { text: string; pttl: number } | undefined;
let newName: string;

const circuitOpen = async (gw: TestGateway): Promise<number> => metricSum(gw.metrics.redisCircuitOpen);

beforeAll(async () => {
  redisServer = await startRedis();
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gateway = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url, env: ENV });
  peer = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: redisServer.url,
    cachePrefix: gateway.cachePrefix,
    env: ENV,
  });
  keys = createKeyBuilder(gateway.cachePrefix, readPrismaSchemaText());
  admin = (await signIn(gateway.url)).headers;
  for (const id of WARM_IDS) dataOf(await gateway.query<ProductData>(PRODUCT, { id }));
  dataOf(await gateway.query(PAGE));
  dataOf(await peer.query<ProductData>(PRODUCT, { id: UPDATED_ID })); // from Redis into the peer's L1
  const raw = rawRedis(redisServer.url);
  await raw.connect();
  try {
    const key = keys.entityKey('Product', UPDATED_ID);
    const [text, pttl] = await Promise.all([raw.get(key), raw.pttl(key)]);
    if (text === null) throw new Error(`warming did not put ${key} in Redis`);
    staleEntry = { text, pttl };
  } finally {
    raw.disconnect();
  }
});

afterAll(async () => {
  await Promise.allSettled([gateway?.stop(), peer?.stop()]);
  await redisServer?.destroy();
  await database?.drop();
});

describe('redis-server stopped in the middle of a query loop', () => {
  it('every query still succeeds (HTTP 200, no errors) and none takes longer than ~1 s', async () => {
    const outcomes: Outcome[] = [];
    let phase: Outcome['phase'] = 'before';
    let stop = false;
    let issued = 0;
    const next = (): { query: string; variables?: Record<string, unknown>; expectId?: string } => {
      const n = issued++;
      if (n % 5 === 4) return { query: PAGE };
      const id = n % 2 === 0 ? WARM_IDS[n % WARM_IDS.length]! : String(COLD_FIRST + ((n * 7) % COLD_COUNT));
      return { query: PRODUCT, variables: { id }, expectId: id };
    };
    const worker = async (): Promise<void> => {
      while (!stop) {
        const { query, variables, expectId } = next();
        const at = phase;
        const started = performance.now();
        let response: GraphQLResponse<ProductData> | undefined;
        let failure = '';
        try {
          response = await gateway.query<ProductData>(query, variables);
        } catch (error) {
          failure = String(error);
        }
        const ms = performance.now() - started;
        const ok =
          response !== undefined &&
          response.status === 200 &&
          !response.body.errors &&
          !!response.body.data &&
          (expectId === undefined || response.body.data.product?.id === expectId);
        outcomes.push({
          phase: at,
          ms,
          status: response?.status ?? 0,
          ok,
          detail: failure || JSON.stringify(response?.body).slice(0, 300),
        });
      }
    };
    const workers = Array.from({ length: WORKERS }, () => worker());
    const completed = (p: Outcome['phase']): number => outcomes.filter((o) => o.phase === p).length;
    try {
      await waitUntil(() => completed('before') >= 60, 30_000, '60 queries before the outage');
      phase = 'stopping';
      const stopStarted = performance.now();
      await redisServer.stop();
      const stopMs = performance.now() - stopStarted;
      phase = 'outage';
      const outageStarted = performance.now();
      // At least 120 queries and 3 s without Redis (long enough for ioredis' reconnect backoff to grow).
      await waitUntil(
        () => completed('outage') >= 120 && outcomes.length >= 200 && performance.now() - outageStarted > 3_000,
        30_000,
        'queries during the outage',
      );
      console.log(`[redis-outage] redis-server stop took ${Math.round(stopMs)} ms`);
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const failures = outcomes.filter((o) => !o.ok);
    const maxOf = (list: Outcome[]): number => Math.round(Math.max(0, ...list.map((o) => o.ms)));
    const during = outcomes.filter((o) => o.phase !== 'before');
    console.log(
      `[redis-outage] ${outcomes.length} queries (${completed('before')} before, ${completed('stopping')} while ` +
        `stopping, ${completed('outage')} during the outage); ` +
        `max latency ${maxOf(outcomes)} ms overall, ${maxOf(during)} ms from the stop on; ${failures.length} failures`,
    );
    expect(outcomes.length).toBeGreaterThanOrEqual(200);
    expect(failures.map((f) => `${f.phase} HTTP ${f.status}: ${f.detail}`)).toEqual([]);
    const slow = outcomes.filter((o) => o.ms > MAX_LATENCY_MS).map((o) => `${o.phase}: ${Math.round(o.ms)} ms`);
    expect(slow, 'requests slower than 1 s (waiting on a dead socket?)').toEqual([]);
  }, 90_000);

  it('/readyz stays 200 with redis "down" and the circuit gauge reads 1', async () => {
    const started = performance.now();
    const response = await fetch(endpoint(gateway, '/readyz'));
    const ms = performance.now() - started;
    const body = (await response.json()) as { status: string; postgres: string; redis: string; redisCircuit?: string };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'down', redisCircuit: 'open' });
    expect(ms).toBeLessThan(1_500);
    expect(await circuitOpen(gateway)).toBe(1);
    const text = await (await fetch(endpoint(gateway, '/metrics'))).text();
    expect(text).toMatch(/^cachegate_redis_circuit_open 1$/m);
  });

  it('a write during the outage (updateProduct) commits and is visible on re-read', async () => {
    newName = `Written during the outage ${Date.now()}`;
    const updated = dataOf(
      await gateway.query<{ updateProduct: { id: string; name: string } }>(
        UPDATE,
        { id: UPDATED_ID, input: { name: newName } },
        admin,
      ),
    );
    expect(updated.updateProduct).toEqual({ id: UPDATED_ID, name: newName });
    const [row] = await withPg(
      database.url,
      async (c) =>
        (await c.query<{ name: string }>('SELECT name FROM "Product" WHERE id = $1', [Number(UPDATED_ID)])).rows,
    );
    expect(row?.name).toBe(newName);
    expect(dataOf(await gateway.query<ProductData>(PRODUCT, { id: UPDATED_ID })).product?.name).toBe(newName);
    expect(await circuitOpen(gateway)).toBe(1); // still an outage: the write went through without Redis
  });
});

describe('redis-server back', () => {
  let plantedStale = false;
  let recoveryMs = 0;

  it('the circuit closes within a few seconds, without restarting the gateway', async () => {
    await redisServer.start();
    const restarted = performance.now();
    // A restarted redis-server is empty. A Redis that merely became unreachable (a partition, a failover
    // to a replica) would still hold the pre-outage entry of the product written during the outage: plant
    // it back, before the gateway notices Redis is back, so the replay below has something to remove.
    const raw = rawRedis(redisServer.url);
    await raw.connect();
    try {
      if ((await circuitOpen(gateway)) === 1 && staleEntry) {
        await raw.set(keys.entityKey('Product', UPDATED_ID), staleEntry.text, 'PX', staleEntry.pttl);
        plantedStale = true;
      } else {
        console.warn(
          '[redis-outage] the circuit closed before the stale entry could be planted: the replay check is weaker ' +
            'this run',
        );
      }
    } finally {
      raw.disconnect();
    }
    await waitUntil(async () => (await circuitOpen(gateway)) === 0, 15_000, 'the circuit to close');
    recoveryMs = performance.now() - restarted;
    console.log(`[redis-outage] circuit closed ${Math.round(recoveryMs)} ms after redis-server came back`);
    expect(recoveryMs).toBeLessThan(10_000);
    const body = (await (await fetch(endpoint(gateway, '/readyz'))).json()) as { redis: string; redisCircuit?: string };
    expect(body).toMatchObject({ redis: 'up', redisCircuit: 'closed' });
  }, 30_000);

  it('the invalidation queued during the outage is replayed: a fresh instance does not get the stale entry from ' +
    'Redis', async () => {
    const raw = rawRedis(redisServer.url);
    await raw.connect();
    const key = keys.entityKey('Product', UPDATED_ID);
    try {
      if (plantedStale) {
        const replayMs = await waitUntil(
          async () => (await raw.exists(key)) === 0,
          5_000,
          `the replay to delete ${key}`,
        ).catch((error: unknown) => {
          throw new Error(
            `the delete queued during the outage was not replayed: ${key} still holds the pre-outage value ` +
              `(${String(error)})`,
          );
        });
        console.log(`[redis-outage] queued delete replayed ${Math.round(replayMs)} ms after the circuit closed`);
      }
    } finally {
      raw.disconnect();
    }
    const fresh = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: redisServer.url,
      cachePrefix: gateway.cachePrefix,
      env: ENV,
    });
    try {
      expect(
        dataOf(await fresh.query<ProductData>(PRODUCT, { id: UPDATED_ID })).product?.name,
        'stale product served after recovery',
      ).toBe(newName);
    } finally {
      await fresh.stop();
    }
    expect(dataOf(await gateway.query<ProductData>(PRODUCT, { id: UPDATED_ID })).product?.name).toBe(newName);
  }, 30_000);

  it('an instance whose L1 held the product before the outage serves the new value once Redis is back', async () => {
    // While Redis was down the writer could not broadcast the invalidation; the replay on recovery
    // re-broadcasts it. The peer's L1 entry would otherwise live on for up to the L1 cap (60 s).
    const peerName = async (): Promise<string | undefined> =>
      dataOf(await peer.query<ProductData>(PRODUCT, { id: UPDATED_ID })).product?.name;
    const firstRead = await peerName();
    if (firstRead !== newName) {
      await waitUntil(async () => (await peerName()) === newName, 5_000, 'the peer to drop its stale L1 entry').catch(
        async () => {
          throw new Error(
            `the peer instance still serves "${await peerName()}" (want "${newName}") 5 s after recovery: the ` +
              `replayed invalidation never reached its L1`,
          );
        },
      );
    }
    console.log(
      `[redis-outage] peer instance after recovery: first read ` +
        `${firstRead === newName ? 'already fresh' : 'STALE, fresh later'}`,
    );
  }, 30_000);

  it('Redis serves hits again and receives fills again, without restarting the gateway', async () => {
    const filler = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: redisServer.url,
      cachePrefix: gateway.cachePrefix,
      env: ENV,
    });
    const fromRedis = Array.from({ length: 20 }, (_, i) => String(200 + i)); // never read by `gateway`
    const filledByGateway = Array.from({ length: 10 }, (_, i) => String(230 + i));
    try {
      for (const id of fromRedis) dataOf(await filler.query<ProductData>(PRODUCT, { id }));
    } finally {
      await filler.stop();
    }
    const hitsBefore = await metricSum(gateway.metrics.cacheLookups, {
      layer: 'redis',
      type: 'Product',
      result: 'hit',
    });
    gateway.sql.length = 0;
    for (const id of fromRedis) expect(dataOf(await gateway.query<ProductData>(PRODUCT, { id })).product?.id).toBe(id);
    const hits =
      (await metricSum(gateway.metrics.cacheLookups, { layer: 'redis', type: 'Product', result: 'hit' })) - hitsBefore;
    console.log(
      `[redis-outage] after recovery: ${hits} Redis hits for ${fromRedis.length} products filled by another ` +
        `instance; ${gateway.sql.length} SQL`,
    );
    expect(hits).toBe(fromRedis.length);
    expect(gateway.sql.filter((s) => s.includes('"Product"'))).toEqual([]);

    for (const id of filledByGateway) dataOf(await gateway.query<ProductData>(PRODUCT, { id }));
    await sleep(50); // fills are written before the response, but give the pipeline a moment anyway
    const raw = rawRedis(redisServer.url);
    await raw.connect();
    try {
      const present = await raw.exists(...filledByGateway.map((id) => keys.entityKey('Product', id)));
      expect(present, 'the gateway no longer writes its fills to Redis').toBe(filledByGateway.length);
    } finally {
      raw.disconnect();
    }
  }, 30_000);
});

describe('a gateway started while Redis is down', () => {
  let stopped: RedisServer;
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    stopped = await startRedis();
    await stopped.stop();
  });
  afterAll(async () => {
    await gw?.stop();
    await stopped?.destroy();
  });

  it('starts, serves, and does not report a committed stock change as an error', async () => {
    gw = await startTestGateway({ databaseUrl: database.url, redisUrl: stopped.url });
    expect((await fetch(endpoint(gw, '/readyz'))).status).toBe(200);
    expect(dataOf(await gw.query(PRODUCT, { id: '3' }))).toMatchObject({ product: { id: '3' } });
    const headers = (await signIn(gw.url)).headers;
    const reply = await gw.query('mutation { setStock(productId: "3", onHand: 41) { onHand } }', {}, headers);
    expect(dataOf(reply)).toEqual({ setStock: { onHand: 41 } });
    const stock = await withPg(
      database.url,
      async (client) =>
        (await client.query<{ onHand: number }>('SELECT "onHand" FROM "Inventory" WHERE "productId" = 3')).rows,
    );
    expect(stock[0]?.onHand).toBe(41);

    // Redis comes back: the gateway uses it without a restart.
    await stopped.start();
    const readiness = async (): Promise<string> => {
      const body = (await (await fetch(endpoint(gw!, '/readyz'))).json()) as { redis: string; redisCircuit: string };
      return `${body.redis}/${body.redisCircuit}`;
    };
    await waitUntil(async () => (await readiness()) === 'up/closed', 10_000, 'readyz to say redis up/closed', 200);
  });
});
