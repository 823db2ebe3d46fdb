// The execution path's fast lane (src/server/direct-execution.ts), real PostgreSQL and Redis:
// - a known plain query is answered without Apollo's pipeline with the same status, bytes, Content-Type
//   and Cache-Control as Apollo's answer to it (public for anonymous readers, private when signed in),
//   also under 60 concurrent clients;
// - a refused query and an answer with errors are left to Apollo, which answers as before, and the read
//   rate limit is charged once per request on either lane;
// - documents Apollo has not validated never take the fast lane.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { signIn, type Headers } from '../support/kit.ts';

const READS = 12;
const PAGE = /* GraphQL */ `query Page($id: ID!) {
  product(id: $id) { id name basePrice price { amount } category { name parent { name } } inventory { available } }
}`;
const REFUSED = /* GraphQL */ `query Stats { cacheStats { l1Entries } }`;

let database: TestDatabase;
let redisServer: RedisServer;
let gw: TestGateway;

interface Raw {
  status: number;
  text: string;
  contentType: string | null;
  cacheControl: string | null;
  /** Every header but those that differ per request or per moment. */
  headers: Record<string, string>;
}

const PER_REQUEST = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

/** POSTs `body` as JSON; the extra `extensions` key makes the fast lane pass a request on to Apollo. */
async function post(body: Record<string, unknown>, headers: Headers = {}, viaApollo = false): Promise<Raw> {
  const response = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(viaApollo ? { ...body, extensions: {} } : body),
  });
  return {
    status: response.status,
    text: await response.text(),
    contentType: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    headers: Object.fromEntries([...response.headers].filter(([name]) => !PER_REQUEST.has(name))),
  };
}

async function directCount(): Promise<number> {
  const metric = await gw.metrics.registry.getSingleMetric('cachegate_direct_executions_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

/** The request ids differ per request; everything else of an error answer must match. */
const withoutRequestIds = (text: string): string => text.replace(/"requestId":"[^"]*"/g, '"requestId":"*"');

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  redisServer = await startRedis();
  gw = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: redisServer.url,
    env: {
      RESPONSE_CACHE: 'false',
      TRUST_PROXY: 'true',
      RATE_LIMIT_READS_PER_MINUTE: String(READS),
      RATE_LIMIT_IP_MULTIPLIER: '1',
    },
  });
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([redisServer?.destroy(), database?.drop()]);
});

describe('the fast lane', () => {
  it('answers a known query with the bytes and headers Apollo gives, anonymous and signed in', async () => {
    const shopper = await signIn(gw.url, 'customer3@cachegate.test');
    for (const [who, headers] of [
      ['anonymous', { 'x-forwarded-for': '10.0.0.1' }],
      ['signed in', { 'x-forwarded-for': '10.0.0.2', ...shopper.headers }],
    ] as const) {
      const body = { query: PAGE, variables: { id: '7' } };
      const first = await post(body, headers); // Apollo parses, validates and hands the document over
      const before = await directCount();
      const direct = await post(body, headers);
      expect(await directCount(), who).toBe(before + 1);
      const apollo = await post(body, headers, true);
      expect(await directCount(), who).toBe(before + 1);
      for (const answer of [first, apollo]) expect(direct, who).toEqual(answer);
      expect(direct.status).toBe(200);
      expect(JSON.parse(direct.text).data.product.id).toBe('7');
      expect(direct.cacheControl).toMatch(who === 'anonymous' ? /^max-age=\d+, public$/ : /^max-age=\d+, private$/);
    }
  });

  it('gives 60 concurrent clients what Apollo gives each of them', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(i + 20));
    const headers = (i: number) => ({ 'x-forwarded-for': `10.0.1.${i}` });
    const expected = new Map<string, Raw>();
    for (const [i, id] of ids.entries())
      expected.set(id, await post({ query: PAGE, variables: { id } }, headers(i), true));
    const before = await directCount();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const id = ids[i % ids.length]!;
        return post({ query: PAGE, variables: { id } }, headers(i % ids.length)).then((answer) => ({ id, answer }));
      }),
    );
    for (const { id, answer } of answers) expect(answer).toEqual(expected.get(id));
    expect(await directCount()).toBe(before + 60);
  });

  it('hands refusals and errors to Apollo, which answers as before, and charges the read limit once', async () => {
    const admin = await signIn(gw.url, undefined, undefined, { 'x-forwarded-for': '10.0.2.9' });
    const headers = { 'x-forwarded-for': '10.0.2.1' };
    const refused: Raw[] = [];
    const failed: Raw[] = [];
    // READS per minute: half refused before execution, half failing in it; every one is answered. Before
    // each, other clients succeed with the same documents, so the fast lane knows them again.
    for (let i = 0; i < READS / 2; i++) {
      expect((await post({ query: REFUSED }, { ...admin.headers, 'x-forwarded-for': '10.0.2.9' })).status).toBe(200);
      expect((await post({ query: PAGE, variables: { id: '7' } }, { 'x-forwarded-for': '10.0.2.8' })).status).toBe(200);
      refused.push(await post({ query: REFUSED }, headers));
      failed.push(await post({ query: PAGE, variables: { id: 'not-a-number' } }, headers));
    }
    for (const answer of refused) {
      expect(answer.status).toBe(refused[0]!.status);
      expect(withoutRequestIds(answer.text)).toBe(withoutRequestIds(refused[0]!.text));
      expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    for (const answer of failed) {
      expect(withoutRequestIds(answer.text)).toBe(withoutRequestIds(failed[0]!.text));
      const code = JSON.parse(answer.text).errors[0].extensions.code;
      expect(code).not.toBe('RATE_LIMITED');
      expect(code).not.toBe('INTERNAL_SERVER_ERROR');
      expect(answer.cacheControl).toBe('no-store');
    }
    // The next read is over the limit: each request above was charged exactly once.
    const over = await post({ query: PAGE, variables: { id: '7' } }, headers);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.text).errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('never takes a document Apollo has not validated', async () => {
    const headers = { 'x-forwarded-for': '10.0.3.1' };
    const before = await directCount();
    const invalid = await post({ query: '{ product(id: "1") { noSuchField } }' }, headers);
    const again = await post({ query: '{ product(id: "1") { noSuchField } }' }, headers);
    expect(invalid.status).toBe(400);
    expect(withoutRequestIds(again.text)).toBe(withoutRequestIds(invalid.text));
    expect(await directCount()).toBe(before);
  });
});
