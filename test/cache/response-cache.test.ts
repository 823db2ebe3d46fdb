// The response cache in front of Apollo, on two instances sharing one Redis and one database: a hit
// runs no resolver and no SQL, a write is seen at once on both instances, a write purges exactly the
// stored answers that contain what it touched, PRIVATE answers and errors are never stored, and 100
// identical concurrent cold queries execute once per instance.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKeyBuilder, readPrismaSchemaText } from '../../src/cache/keys.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { endpoint, parsePrometheus, type TestGateway } from './kit.ts';
import { rawRedis, signIn, sleep, waitUntil } from '../support/kit.ts';
import { post, resolverCounter, storedAnswers, type ResolverCounter } from './response-kit.ts';

const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name basePrice category { id name } } }';
const PAGE = 'query Cheapest { products(first: 3, sort: PRICE_ASC) { totalCount nodes { id name } } }';
const UPDATE =
  'mutation Update($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }';
const ME = 'query Me { me { id email } product(id: "1") { id name } }';

let database: TestDatabase;
let prefix: string;
let a: TestGateway;
let b: TestGateway;
const counters: Record<'a' | 'b', ResolverCounter> = { a: resolverCounter(), b: resolverCounter() };
let admin: Record<string, string>;
const redis = rawRedis(inject('redisUrl'));

const product = (gw: TestGateway, id: string) => post(gw, { query: PRODUCT, variables: { id } });

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  prefix = randomPrefix();
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: prefix };
  a = await startTestGateway({ ...options, plugins: [counters.a.plugin] });
  b = await startTestGateway({ ...options, plugins: [counters.b.plugin] });
  await redis.connect();
  admin = (await signIn(a.url)).headers;
});

afterAll(async () => {
  redis.disconnect();
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

describe('hits', () => {
  it('a hit is written with the security headers, its own request id, the exact length and its audience', async () => {
    const send = async (headers: Record<string, string>) => {
      const response = await fetch(a.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: PRODUCT, variables: { id: '4' } }),
      });
      return { headers: response.headers, text: await response.text() };
    };
    const miss = await send({});
    // Anonymous, signed in, anonymous again: the head prepared for one audience never reaches the other.
    const hits = [
      await send({ 'x-request-id': 'hit-trace-1' }),
      await send({ ...admin, 'x-request-id': 'hit-trace-2' }),
    ];
    hits.push(await send({ 'x-request-id': 'hit-trace-3' }));
    for (const [i, hit] of hits.entries()) {
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.text).toBe(miss.text);
      for (const name of ['x-content-type-options', 'strict-transport-security', 'content-security-policy', 'vary'])
        expect(hit.headers.get(name), name).toBe(miss.headers.get(name));
      expect(hit.headers.get('x-request-id')).toBe(`hit-trace-${i + 1}`);
      expect(Number(hit.headers.get('content-length'))).toBe(Buffer.byteLength(hit.text));
    }
    expect(hits[0]!.headers.get('cache-control')).toBe(miss.headers.get('cache-control'));
    expect(hits[0]!.headers.get('cache-control')).toMatch(/^max-age=\d+, public/);
    expect(hits[1]!.headers.get('cache-control')).toMatch(/^max-age=\d+, private/);
    expect(hits[2]!.headers.get('cache-control')).toBe(hits[0]!.headers.get('cache-control'));
  });

  it('a repeated query is answered from stored bytes: no resolver, no SQL, same body, x-cache HIT', async () => {
    const first = await product(a, '3');
    expect(first.status).toBe(200);
    expect(first.cache).toBe('MISS');
    expect(first.json.data.product.id).toBe('3');
    counters.a.reset();
    a.sql.length = 0;
    const again = await product(a, '3');
    expect(again.cache).toBe('HIT');
    expect(again.text).toBe(first.text);
    expect(again.cacheControl).toBe(first.cacheControl);
    expect(counters.a.calls, 'resolvers ran on a hit').toBe(0);
    expect(a.sql).toEqual([]);
  });

  it('every hit is counted in /metrics, scrape after scrape', async () => {
    const hits = async (): Promise<number> => {
      const { samples } = parsePrometheus(await (await fetch(endpoint(a, '/metrics'))).text());
      const hit = samples.find((s) => s.name === 'cachegate_response_cache_total' && s.labels.result === 'hit');
      return hit?.value ?? 0;
    };
    await product(a, '5');
    const before = await hits();
    for (let i = 0; i < 3; i += 1) expect((await product(a, '5')).cache).toBe('HIT');
    expect(await hits()).toBe(before + 3);
    for (let i = 0; i < 2; i += 1) expect((await product(a, '5')).cache).toBe('HIT');
    expect(await hits()).toBe(before + 5);
  });

  it('the other instance answers it from Redis without executing, then from its own L1', async () => {
    await product(a, '4');
    counters.b.reset();
    const fromRedis = await product(b, '4');
    const fromL1 = await product(b, '4');
    expect([fromRedis.cache, fromL1.cache]).toEqual(['HIT', 'HIT']);
    expect(counters.b.calls).toBe(0);
    expect(fromL1.text).toBe(fromRedis.text);
  });

  it('variables in another order share the answer; other variables do not', async () => {
    const query = 'query P($id: ID!, $n: Int) { product(id: $id) { id } products(first: $n) { totalCount } }';
    const first = await post(a, { query, variables: { id: '5', n: 2 } });
    expect(first.cache).toBe('MISS');
    expect((await post(a, { query, variables: { n: 2, id: '5' } })).cache).toBe('HIT');
    expect((await post(a, { query, variables: { id: '6', n: 2 } })).cache).toBe('MISS');
  });
});

describe('what is never stored', () => {
  it('an answer with a PRIVATE field (me), for a signed-in viewer or not', async () => {
    const before = (await storedAnswers(redis, prefix)).length;
    for (const headers of [{}, admin]) {
      const first = await post(a, { query: ME }, headers);
      expect(first.status).toBe(200);
      const again = await post(a, { query: ME }, headers);
      expect(again.cache).toBeNull();
      expect(again.cacheControl ?? '').not.toMatch(/public/);
    }
    expect((await storedAnswers(redis, prefix)).length).toBe(before);
  });

  it('errors and mutations', async () => {
    const missing = 'query { product(id: "not-a-number") { id } }';
    for (let i = 0; i < 2; i += 1) {
      const answer = await post(a, { query: missing });
      expect(answer.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.cache).toBeNull();
    }
    const mutation = { query: UPDATE, variables: { id: '7', input: { name: 'Mutation never stored' } } };
    for (let i = 0; i < 2; i += 1) expect((await post(a, mutation, admin)).cache).toBeNull();
  });

  it('a signed-in viewer gets a public answer marked private for shared caches', async () => {
    await product(a, '8');
    const signedIn = await post(a, { query: PRODUCT, variables: { id: '8' } }, admin);
    expect(signedIn.cache).toBe('HIT');
    expect(signedIn.cacheControl).toMatch(/private/);
  });
});

describe('writes', () => {
  it('read, update, read: fresh at once on the writing instance and on the other one', async () => {
    for (const gw of [a, b]) for (let i = 0; i < 2; i += 1) await product(gw, '12');
    expect((await product(b, '12')).cache).toBe('HIT');
    const name = `Fresh at once ${Date.now()}`;
    const updated = await post(a, { query: UPDATE, variables: { id: '12', input: { name } } }, admin);
    expect(updated.json.data.updateProduct.name).toBe(name);
    for (const gw of [a, b]) {
      const read = await product(gw, '12');
      expect(read.json.data.product.name).toBe(name);
    }
  });

  it('purges exactly the stored answers that contain what it touched', async () => {
    const ids = ['20', '21', '22'];
    const keyOf = async () => new Set(await storedAnswers(redis, prefix));
    // The previous test's un-awaited stores and the other instance's purges may still be landing: start
    // from a settled set, and count only this test's answers.
    let earlier = await keyOf();
    await waitUntil(
      async () => {
        await sleep(300);
        const now = await keyOf();
        const same = now.size === earlier.size && [...now].every((key) => earlier.has(key));
        earlier = now;
        return same;
      },
      15_000,
      'the stored answers to settle',
    );
    for (const gw of [a, b]) {
      for (const id of ids) await product(gw, id);
      await post(gw, { query: PAGE });
    }
    const ours = async () => new Set([...(await keyOf())].filter((key) => !earlier.has(key)));
    // Redis stores are not awaited by the answers: wait until the four answers are there.
    await waitUntil(async () => (await ours()).size === 4, 15_000, 'the answers to reach Redis');
    const before = await ours();
    // What the write touches: the product's entity key and the Product list tag. The answers filed
    // under them in Redis's index sets are exactly those that must go.
    const touched = [createKeyBuilder(prefix, readPrismaSchemaText()).entityKey('Product', '21'), 'tag:Product'];
    const filed = new Set(
      (await Promise.all(touched.map((dep) => redis.smembers(`${prefix}:rc@idx:{${dep}}`)))).flat(),
    );
    await post(a, { query: UPDATE, variables: { id: '21', input: { name: 'Purged exactly' } } }, admin);
    const after = await ours();
    const gone = [...before].filter((key) => !after.has(key));
    expect(new Set(gone)).toEqual(new Set([...before].filter((key) => filed.has(key))));
    // Among them the product's own answer and the list; the other products' answers stay, in both L1s.
    expect(gone.length).toBeGreaterThanOrEqual(2);
    expect(after.size).toBe(before.size - gone.length);
    // The product's own answer and the list were among them: executed again. The others were not.
    counters.a.reset();
    for (const id of ['20', '22']) expect((await product(a, id)).cache).toBe('HIT');
    expect((await product(a, '21')).cache).toBe('MISS');
    expect((await post(a, { query: PAGE })).cache).toBe('MISS');
    expect(counters.a.roots).toEqual({ product: 1, products: 1 });
    // Instance B dropped the same answers from its L1 and kept the others.
    for (const id of ['20', '22']) expect((await product(b, id)).cache).toBe('HIT');
    expect((await product(b, '21')).json.data.product.name).toBe('Purged exactly');
  });
});

describe('single flight', () => {
  it('100 identical concurrent cold queries execute once per instance', async () => {
    counters.a.reset();
    counters.b.reset();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => product(i % 2 === 0 ? a : b, '30')));
    expect(answers.every((answer) => answer.status === 200 && answer.json.data.product.id === '30')).toBe(true);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(counters.a.roots.product ?? 0).toBeLessThanOrEqual(1);
    expect(counters.b.roots.product ?? 0).toBeLessThanOrEqual(1);
    expect((counters.a.roots.product ?? 0) + (counters.b.roots.product ?? 0)).toBeGreaterThanOrEqual(1);
  });
});
