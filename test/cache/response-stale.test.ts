// Stale-while-revalidate on three instances sharing one Redis and one database. Product is declared with
// @staleWhileRevalidate(grace: 600) beside its maxAge of 2 hours; rather than wait that long, a test ages
// a stored answer by moving its freshUntil back in Redis (the answer itself is the one instance A built),
// and reads it on instances B and C, which have no copy of their own yet.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredResponse } from '../../src/cache/response-cache/response-store.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { rawRedis, signIn, sleep, waitUntil } from '../support/kit.ts';
import type { TestGateway } from './kit.ts';
import { post, resolverCounter, storedAnswers, type ResolverCounter } from './response-kit.ts';

const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name basePrice category { id name } } }';
const UPDATE =
  'mutation Update($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }';
/** Product's grace; Category's is longer, so the answer's grace is Product's (the minimum). */
const GRACE_SECONDS = 600;

let database: TestDatabase;
let prefix: string;
const gateways: Record<'a' | 'b' | 'c', TestGateway | undefined> = { a: undefined, b: undefined, c: undefined };
const counters = { a: resolverCounter(), b: resolverCounter(), c: resolverCounter() };
const redis = rawRedis(inject('redisUrl'));
let admin: Record<string, string>;

const gw = (name: 'a' | 'b' | 'c') => gateways[name]!;
const product = (name: 'a' | 'b' | 'c', id: string) => post(gw(name), { query: PRODUCT, variables: { id } });
const executions = (...counted: ResolverCounter[]) => counted.reduce((sum, c) => sum + (c.roots.product ?? 0), 0);

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  prefix = randomPrefix();
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: prefix };
  for (const name of ['a', 'b', 'c'] as const)
    gateways[name] = await startTestGateway({ ...options, plugins: [counters[name].plugin] });
  await redis.connect();
  admin = (await signIn(gw('a').url)).headers;
});

afterAll(async () => {
  redis.disconnect();
  await Promise.allSettled(Object.values(gateways).map((g) => g?.stop()));
  await database?.drop();
});

/** Instance A builds and stores the answer; returns its Redis key once it is there. */
async function storedBy(id: string): Promise<string> {
  expect((await product('a', id)).cache).toBe('MISS');
  let key: string | undefined;
  const answers = async (k: string) => (await storedAnswer(k))?.body.includes(`"id":"${id}"`) === true;
  await waitUntil(
    async () => {
      for (const k of await storedAnswers(redis, prefix)) if (await answers(k)) key = k;
      return key !== undefined;
    },
    5_000,
    'the answer to reach Redis',
  );
  return key!;
}

/**
 * The stored answer under `key`, or undefined while there is none. On a cluster the key first holds a
 * placeholder while the answer is filed under its dependencies (response-store.ts), then the answer.
 */
async function storedAnswer(key: string): Promise<StoredResponse | undefined> {
  const text = await redis.get(key);
  return text?.startsWith('{') ? (JSON.parse(text) as StoredResponse) : undefined;
}

/** Moves a stored answer's end of freshness `ageMs` into the past (as if that much time had gone by). */
async function age(key: string, ageMs: number): Promise<StoredResponse> {
  const entry = (await storedAnswer(key))!;
  entry.freshUntil = Date.now() - ageMs;
  await redis.set(key, JSON.stringify(entry), 'KEEPTTL');
  return entry;
}

const freshInRedis = async (key: string) => ((await storedAnswer(key))?.freshUntil ?? 0) > Date.now();

describe('stale-while-revalidate', () => {
  it('within the grace a stale answer is served at once and refreshed once across the cluster', async () => {
    const key = await storedBy('50');
    const entry = await age(key, 1_000);
    expect(entry.grace).toBe(GRACE_SECONDS);
    for (const c of Object.values(counters)) c.reset();
    // 40 concurrent requests, half on B and half on C: all answered from the stored answer.
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => product(i % 2 ? 'b' : 'c', '50')));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.json.data.product.id).toBe('50');
      expect(['STALE', 'HIT']).toContain(answer.cache);
    }
    const stale = answers.filter((answer) => answer.cache === 'STALE');
    expect(stale.length).toBeGreaterThan(0);
    expect(stale[0]!.cacheControl).toMatch(/^max-age=0, public, stale-while-revalidate=(59\d|600)$/);
    await waitUntil(() => freshInRedis(key), 5_000, 'the background refresh to store a fresh answer');
    // The instance that lost the claim, still holding the stale copy, takes the refreshed answer from Redis.
    await waitUntil(
      async () => (await product('b', '50')).cache === 'HIT' && (await product('c', '50')).cache === 'HIT',
      5_000,
      'both instances to answer fresh',
    );
    await sleep(200);
    expect(executions(counters.b, counters.c), 'refreshes across B and C').toBe(1);
    const fresh = await product('c', '50');
    expect(fresh.cacheControl).toBe(`max-age=7200, public, stale-while-revalidate=${GRACE_SECONDS}`);
  });

  it('past the grace the answer is a miss: executed again', async () => {
    const key = await storedBy('51');
    await age(key, (GRACE_SECONDS + 1) * 1000);
    counters.b.reset();
    const answer = await product('b', '51');
    expect(answer.cache).toBe('MISS');
    expect(counters.b.roots.product).toBe(1);
  });

  it('a write purges a stale answer entirely: fresh at once on every instance, never stale', async () => {
    const key = await storedBy('52');
    await age(key, 1_000);
    expect((await product('c', '52')).cache).toBe('STALE'); // C now holds it too
    await waitUntil(() => freshInRedis(key), 5_000, 'the background refresh');
    await age(key, 1_000);
    const name = `Fresh after a write ${Date.now()}`;
    const updated = await post(gw('a'), { query: UPDATE, variables: { id: '52', input: { name } } }, admin);
    expect(updated.json.data.updateProduct.name).toBe(name);
    for (const name_ of ['a', 'b', 'c'] as const) {
      const read = await product(name_, '52');
      expect(read.cache).not.toBe('STALE');
      expect(read.json.data.product.name).toBe(name);
    }
  });
});
