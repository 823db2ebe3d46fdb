// Rate limits by operation class (src/limits/rate-limits.ts), against a real redis-server:
// - with RATE_LIMIT_READS_PER_MINUTE=20 and RATE_LIMIT_IP_MULTIPLIER=1 the 21st read from one IP is
//   RATE_LIMITED (HTTP 429, Retry-After, extensions.retryAfter), before anything executes;
// - writes have their own budget; a signed-in user's budget follows the user across addresses;
// - with redis-server stopped the limits still apply (in-memory insurance) and no request fails with
//   anything but RATE_LIMITED.
// Client addresses are simulated with TRUST_PROXY=true and X-Forwarded-For.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, useTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { EMAILS, codesOf, errorOf, fromIp, gatewayConnected } from './kit.ts';
import { gql, signIn, type Headers, type Reply } from '../support/kit.ts';

const READS = 20;
const WRITES = 5;
const READ = `query Read { product(id: "1") { id name } }`;
const WRITE = `mutation Write { toggleWishlist(productId: "2") { count } }`;

const LIMIT_ENV = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_READS_PER_MINUTE: String(READS),
  RATE_LIMIT_WRITES_PER_MINUTE: String(WRITES),
  RATE_LIMIT_IP_MULTIPLIER: '1',
};

let database: TestDatabase;
let redisServer: RedisServer;
let gw: TestGateway;

function expectRateLimited(reply: Reply<unknown>): void {
  const error = errorOf(reply, 'RATE_LIMITED');
  expect(reply.status).toBe(429);
  const retryAfter = error.extensions?.retryAfter as number;
  expect(typeof retryAfter).toBe('number');
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(reply.headers.get('retry-after')).toBe(String(retryAfter));
  expect(reply.body.data ?? null).toBeNull();
  expect(error.message).toMatch(/rate limit/i);
}

/** Sends `count` operations one after another; returns the replies. */
async function send(count: number, query: string, headers: Headers): Promise<Reply<Record<string, unknown>>[]> {
  const replies: Reply<Record<string, unknown>>[] = [];
  for (let i = 0; i < count; i++) replies.push(await gql(gw.url, query, {}, headers));
  return replies;
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  redisServer = await startRedis();
  gw = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url, env: LIMIT_ENV });
});

afterAll(async () => {
  if (redisServer) await gatewayConnected(redisServer.url);
  await gw?.stop();
  await redisServer?.destroy();
  await database?.drop();
});

describe('with Redis', () => {
  it(
    `the ${READS + 1}st read from one IP is RATE_LIMITED with HTTP 429, Retry-After and extensions.retryAfter, ` +
      `before execution`,
    async () => {
      const ip = fromIp('10.3.0.1');
      const allowed = await send(READS, READ, ip);
      for (const reply of allowed) {
        expect(reply.status).toBe(200);
        expect(reply.body.errors).toBeUndefined();
      }
      gw.sql.length = 0;
      const over = await gql(gw.url, READ, {}, ip);
      expectRateLimited(over);
      expect(gw.sql, 'a refused operation must not reach PostgreSQL').toEqual([]);
      expectRateLimited(await gql(gw.url, '{ categories { id } }', {}, ip));
      // Another address still has its budget.
      const other = await gql(gw.url, READ, {}, fromIp('10.3.0.2'));
      expect(other.status).toBe(200);
      expect(other.body.errors).toBeUndefined();
    },
  );

  it(
    'writes have their own budget: an address out of reads still writes, until its write budget is ' + 'spent',
    async () => {
      const ip = fromIp('10.3.0.3');
      await send(READS, READ, ip);
      expectRateLimited(await gql(gw.url, READ, {}, ip));
      // The anonymous write is refused by authorization (UNAUTHENTICATED), not by the read limit; it
      // spends write budget.
      const writes = await send(WRITES, WRITE, ip);
      for (const reply of writes) expect(codesOf(reply)).toEqual(['UNAUTHENTICATED']);
      expectRateLimited(await gql(gw.url, WRITE, {}, ip));
      expectRateLimited(await gql(gw.url, READ, {}, ip));
    },
  );

  it("a signed-in user's budget follows the user across addresses", async () => {
    const user = await signIn(gw.url, EMAILS.customer, undefined, fromIp('10.3.1.1'));
    const half = READS / 2;
    for (const reply of await send(half, READ, { ...user.headers, ...fromIp('10.3.1.2') }))
      expect(reply.body.errors).toBeUndefined();
    for (const reply of await send(half, READ, { ...user.headers, ...fromIp('10.3.1.3') }))
      expect(reply.body.errors).toBeUndefined();
    // A fresh address, but the user has used their 20 reads.
    expectRateLimited(await gql(gw.url, READ, {}, { ...user.headers, ...fromIp('10.3.1.4') }));
    // Writes of this user: their own budget, and real writes go through.
    for (const reply of await send(WRITES, WRITE, { ...user.headers, ...fromIp('10.3.1.5') })) {
      expect(reply.body.errors, reply.text).toBeUndefined();
    }
    expectRateLimited(await gql(gw.url, WRITE, {}, { ...user.headers, ...fromIp('10.3.1.6') }));
  });
});

describe('with redis-server stopped', () => {
  beforeAll(async () => {
    await redisServer.stop();
  });
  afterAll(async () => {
    await redisServer.start();
  });

  it('limits still apply (in-memory insurance), and nothing fails but with RATE_LIMITED', async () => {
    const ip = fromIp('10.3.2.1');
    const replies = await send(READS + 5, READ, ip);
    const codes = replies.map((r) =>
      r.body.errors ? String(codesOf(r)) : r.status === 200 ? 'OK' : `HTTP ${r.status}`,
    );
    expect(codes.slice(0, READS)).toEqual(Array(READS).fill('OK'));
    expect(codes.slice(READS)).toEqual(Array(5).fill('RATE_LIMITED'));
    for (const reply of replies.slice(READS)) expectRateLimited(reply);

    // Writes: their own budget, also in memory.
    const writeIp = fromIp('10.3.2.2');
    const writes = await send(WRITES + 2, WRITE, writeIp);
    expect(writes.map((r) => String(codesOf(r)))).toEqual([
      ...Array(WRITES).fill('UNAUTHENTICATED'),
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
    for (const reply of writes.slice(WRITES)) expectRateLimited(reply);

    // A burst from many addresses at once: every reply is data or RATE_LIMITED, never an error of another kind.
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) => gql(gw.url, READ, {}, fromIp(`10.3.3.${i % 2}`))),
    );
    const kinds = new Map<string, number>();
    for (const reply of burst) {
      const kind = reply.body.errors ? `${reply.status}:${String(codesOf(reply))}` : `${reply.status}:OK`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    expect(Object.fromEntries(kinds)).toEqual({ '200:OK': 2 * READS, '429:RATE_LIMITED': 60 - 2 * READS });
  });
});

describe('operation classes see through fragments', () => {
  const signInBudget = useTestGateway(() => ({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    env: { TRUST_PROXY: 'true', RATE_LIMIT_SIGNINS_PER_MINUTE: '2', RATE_LIMIT_IP_MULTIPLIER: '1' },
  }));

  it('a sign-in inside an inline fragment or a named fragment counts against the sign-in budget', async () => {
    const signIns = signInBudget();
    const headers = fromIp('203.0.113.77');
    const signIn = 'signIn(email: "customer8@cachegate.test", password: "wrong-password-xx") { token }';
    const inline = `mutation { ... on Mutation { ${signIn} } }`;
    const named = `mutation { ...S } fragment S on Mutation { ${signIn} }`;
    const codes = [];
    for (const query of [inline, named, inline, named])
      codes.push(codesOf(await gql(signIns.url, query, {}, headers))[0]);
    expect(codes.slice(0, 2)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codes.slice(2)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });
});
