// Persisted operations on two instances sharing one Redis: Apollo's automatic persisted queries
// protocol (unknown hash, register, hit by hash on the other instance), GET by hash with an ETag and a
// 304, and ALLOWED_OPERATIONS=persisted, which executes only documents of codegen's manifest.
import { createHash } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { readManifest } from '../../src/cache/response-cache/persisted-operations.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import type { TestGateway } from './kit.ts';
import { rawRedis } from '../support/kit.ts';
import { answerOf, post } from './response-kit.ts';

const ADHOC = `query Adhoc${Date.now()}($id: ID!) { product(id: $id) { id name } }`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const persistedQuery = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

let a: TestGateway;
let b: TestGateway;
let strict: TestGateway;
let bounded: TestGateway;
const redis = rawRedis(inject('redisUrl'));
const manifest = readManifest();
const [trustedHash, trustedDocument] = [...manifest].find(([, document]) => document.startsWith('query ProductPage'))!;

beforeAll(async () => {
  const options = { databaseUrl: inject('databaseUrl'), redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  const small = { PERSISTED_QUERIES_MAX_REGISTERED: '3', PERSISTED_QUERIES_MAX_DOCUMENT_CHARS: '200' };
  [a, b, strict, bounded] = await Promise.all([
    startTestGateway(options),
    startTestGateway(options),
    startTestGateway({ ...options, env: { ALLOWED_OPERATIONS: 'persisted' } }),
    startTestGateway({ ...options, cachePrefix: randomPrefix(), env: small }),
  ]);
  await redis.connect();
});

afterAll(async () => {
  redis.disconnect();
  await Promise.allSettled([a, b, strict, bounded].map((gw) => gw?.stop()));
});

describe('automatic persisted queries', () => {
  it('unknown hash: PERSISTED_QUERY_NOT_FOUND; registered on A, then answered by hash on B', async () => {
    const hash = sha256(ADHOC);
    const byHash = { variables: { id: '9' }, extensions: persistedQuery(hash) };
    const unknown = await post(a, byHash);
    expect(unknown.status).toBe(200);
    expect(unknown.json.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    const registered = await post(a, { query: ADHOC, ...byHash });
    expect(registered.json.data.product.id).toBe('9');
    const onB = await post(b, byHash);
    expect(onB.json.errors).toBeUndefined();
    expect(onB.json.data).toEqual(registered.json.data);
  });

  it('a document that does not match its hash, or a malformed extension, is a coded client error', async () => {
    const mismatch = await post(a, { query: ADHOC, extensions: persistedQuery(sha256('something else')) });
    const malformed = await post(a, { extensions: { persistedQuery: { version: 2, sha256Hash: 'x' } } });
    for (const answer of [mismatch, malformed]) {
      expect(answer.status).toBe(400);
      expect(answer.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_INVALID');
    }
  });

  it('GET with a hash and variables carries an ETag; If-None-Match answers 304 without a body', async () => {
    const search = new URLSearchParams({
      variables: JSON.stringify({ id: '10' }),
      extensions: JSON.stringify(persistedQuery(trustedHash)),
    });
    const url = `${b.url}?${search}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const first = await answerOf(await fetch(url, { headers }));
    expect(first.status).toBe(200);
    expect(first.json.data.product.id).toBe('10');
    expect(first.etag).toMatch(/^"[\w-]{27}"$/);
    expect(first.cacheControl).toMatch(/public/);
    const again = await answerOf(await fetch(url, { headers }));
    expect([again.cache, again.etag]).toEqual(['HIT', first.etag]);
    const revalidated = await fetch(url, { headers: { ...headers, 'if-none-match': first.etag! } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('etag')).toBe(first.etag);
  });
});

describe('registration', () => {
  const register = (gw: TestGateway, query: string, variables: Record<string, unknown> = {}) =>
    post(gw, { query, variables, extensions: persistedQuery(sha256(query)) });
  const storedDocument = (gw: TestGateway, query: string) => redis.get(`${gw.cachePrefix}:pq:${sha256(query)}`);

  it('a document that fails parsing, validation or the cost limit is answered as usual, never stored', async () => {
    const refused = [
      `query Broken${Date.now()} { product(id: "1") { id `,
      `query Invalid${Date.now()} { product(id: "1") { noSuchField } }`,
      `query Costly${Date.now()} { products(first: 100) { nodes { category { products(first: 100) {
        nodes { category { products(first: 100) { nodes { id name } } } } } } } } }`,
    ];
    for (const query of refused) {
      const answer = await register(a, query);
      expect(answer.json.errors?.length, query).toBeGreaterThan(0);
      expect(answer.json.data ?? undefined).toBeUndefined();
      expect(await storedDocument(a, query), query).toBeNull();
      // Not in the registering instance's own L1 either: by hash it is unknown everywhere.
      for (const gw of [a, b]) {
        const byHash = await post(gw, { extensions: persistedQuery(sha256(query)) });
        expect(byHash.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      }
    }
    const valid = `query Valid${Date.now()}($id: ID!) { product(id: $id) { id } }`;
    expect((await register(a, valid, { id: '4' })).json.data.product.id).toBe('4');
    expect(await storedDocument(a, valid)).toBe(valid);
  });

  it('a document over the size cap runs but is not stored; Redis keeps a bounded count, oldest out first', async () => {
    const long = `query Long${Date.now()} { product(id: "1") { id ${'name '.repeat(50)}} }`;
    expect((await register(bounded, long)).json.data.product.id).toBe('1');
    expect(await storedDocument(bounded, long)).toBeNull();
    const documents = Array.from(
      { length: 5 },
      (_, i) => `query Kept${i}x${Date.now()} { product(id: "${i + 1}") { id } }`,
    );
    for (const query of documents) expect((await register(bounded, query)).json.errors).toBeUndefined();
    const stored = await Promise.all(documents.map((query) => storedDocument(bounded, query)));
    expect(stored).toEqual([null, null, ...documents.slice(2)]);
    expect(await redis.zcard(`${bounded.cachePrefix}:pq@registered`)).toBe(3);
  });
});

describe('ALLOWED_OPERATIONS=persisted', () => {
  it('refuses an ad-hoc document, and a hash registered elsewhere, with a coded error', async () => {
    const adhoc = await post(strict, { query: ADHOC, variables: { id: '1' } });
    expect(adhoc.status).toBe(400);
    expect(adhoc.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_REQUIRED');
    expect(adhoc.json.data).toBeUndefined();
    const registeredOnA = await post(strict, { variables: { id: '1' }, extensions: persistedQuery(sha256(ADHOC)) });
    expect(registeredOnA.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(strict, { query: ADHOC, extensions: persistedQuery(sha256(ADHOC)) });
    expect(register.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_REQUIRED');
  });

  it('refuses an ad-hoc document over WebSocket too, and runs a manifest one there', async () => {
    const client = createClient({ url: strict.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const run = (query: string) =>
      new Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }>((resolve) => {
        let result: { data?: unknown } = {};
        client.subscribe(
          { query, variables: { id: '3' } },
          {
            next: (value) => void (result = value),
            error: (errors) => resolve({ errors: errors as { extensions?: { code?: string } }[] }),
            complete: () => resolve(result),
          },
        );
      });
    try {
      const adhoc = await run(ADHOC);
      expect(adhoc.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_REQUIRED');
      const trusted = await run(trustedDocument);
      expect(trusted.data).toMatchObject({ product: { id: '3' } });
    } finally {
      await client.dispose();
    }
  });

  it('executes the manifest documents, by hash or in full', async () => {
    const byHash = await post(strict, { variables: { id: '2' }, extensions: persistedQuery(trustedHash) });
    expect(byHash.json.data.product.id).toBe('2');
    const inFull = await post(strict, { query: trustedDocument, variables: { id: '2' } });
    expect(inFull.json.data).toEqual(byHash.json.data);
  });
});
