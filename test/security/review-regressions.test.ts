// Regression tests for defects an independent review found, each against real Redis and PostgreSQL:
// - a burst of concurrent sign-ins cannot get more password checks than the lockout allows;
// - a sign-in hidden in a fragment is still counted as a sign-in by the rate limits;
// - responses to a signed-in viewer are never marked for shared caches;
// - operations over WebSocket get the same masking and limits as over HTTP;
// - the gateway starts and serves with Redis down, and a committed stock change is not reported as an
//   error because its push could not be sent.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { EMAILS, codesOf, fromIp, sqlRows } from '../accounts/kit.ts';
import { bearer, dataOf, gql, signIn } from '../support/kit.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
});

afterAll(async () => {
  await database?.drop();
});

function wsUrl(gateway: TestGateway): string {
  return gateway.url.replace(/^http/, 'ws');
}

async function wsQuery(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown }[] = [];
  try {
    for await (const result of client.iterate({ query, variables })) results.push(result as (typeof results)[number]);
  } catch (errors) {
    // graphql-ws rejects with the error list when the server refuses the operation outright.
    results.push({ errors: errors as { message: string; extensions?: Record<string, unknown> }[] });
  }
  return results;
}

describe('lockout under a concurrent burst', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: inject('redisUrl'),
      env: { LOCKOUT_MAX_FAILURES: '5', LOCKOUT_MAX_FAILURES_PER_IP: '1000' },
    });
  });
  afterAll(async () => gw?.stop());

  it('30 concurrent wrong sign-ins get at most 5 password checks; the rest are ACCOUNT_LOCKED', async () => {
    const email = 'customer7@cachegate.test';
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        gql(gw.url, 'mutation ($e: String!) { signIn(email: $e, password: "wrong-password-xx") { token } }', {
          e: email,
        }),
      ),
    );
    const codes = replies.map((r) => codesOf(r)[0]);
    const checked = codes.filter((c) => c === 'UNAUTHENTICATED').length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'ACCOUNT_LOCKED').length).toBe(30 - checked);
    const [row] = await sqlRows<{ failures: string }>(
      database.url,
      `SELECT count(*) AS failures FROM "AuditLog" a JOIN "User" u ON u.id = a."actorId" WHERE u.email = $1 AND a.action = 'SIGN_IN_FAILED'`,
      [email],
    );
    expect(Number(row?.failures)).toBeLessThanOrEqual(5);
  });
});

describe('rate-limit classes see through fragments', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: inject('redisUrl'),
      env: { TRUST_PROXY: 'true', RATE_LIMIT_SIGNINS_PER_MINUTE: '2', RATE_LIMIT_IP_MULTIPLIER: '1' },
    });
  });
  afterAll(async () => gw?.stop());

  it('a sign-in inside an inline fragment or a named fragment counts against the sign-in budget', async () => {
    const headers = fromIp('203.0.113.77');
    const inline =
      'mutation { ... on Mutation { signIn(email: "customer8@cachegate.test", password: "wrong-password-xx") { token } } }';
    const named =
      'mutation { ...S } fragment S on Mutation { signIn(email: "customer8@cachegate.test", password: "wrong-password-xx") { token } }';
    const codes = [];
    for (const query of [inline, named, inline, named]) codes.push(codesOf(await gql(gw.url, query, {}, headers))[0]);
    expect(codes.slice(0, 2)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codes.slice(2)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });
});

describe('cache headers for signed-in viewers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
  });
  afterAll(async () => gw?.stop());

  it('the same public query is public for anonymous readers and private for a signed-in one', async () => {
    const query = '{ products(first: 2) { nodes { id } } }';
    const anonymous = await gql(gw.url, query);
    expect(anonymous.headers.get('cache-control')).toContain('public');
    const { token } = await signIn(gw.url, EMAILS.orgA);
    const signedIn = await gql(gw.url, query, {}, bearer(token));
    expect(signedIn.headers.get('cache-control')).toContain('private');
    expect(signedIn.headers.get('cache-control')).not.toContain('public');
  });
});

describe('operations over WebSocket', () => {
  let gw: TestGateway;
  let client: Client;
  beforeAll(async () => {
    gw = await startTestGateway({ databaseUrl: database.url, env: { QUERY_MAX_DEPTH: '4' } });
    client = createClient({ url: wsUrl(gw), webSocketImpl: WebSocket, retryAttempts: 0 });
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.stop();
  });

  it('bad variables are BAD_USER_INPUT with no "Did you mean" suggestion', async () => {
    const [result] = await wsQuery(
      client,
      'query ($s: ProductSort) { products(first: 1, sort: $s) { nodes { id } } }',
      { s: 'NEWST' },
    );
    const error = result?.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).not.toMatch(/did you mean/i);
  });

  it('a tampered cursor is BAD_USER_INPUT, not an internal error with source paths', async () => {
    const after = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 1e20])).toString('base64url');
    const [result] = await wsQuery(client, 'query ($a: String) { products(first: 1, after: $a) { nodes { id } } }', {
      a: after,
    });
    const error = result?.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result)).not.toMatch(/\.ts:|\/src\//);
  });

  it('the query depth limit applies before execution', async () => {
    const [result] = await wsQuery(
      client,
      '{ product(id: "1") { category { parent { parent { parent { parent { id } } } } } } }',
    );
    expect(result?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result?.data ?? null).toBeNull();
  });
});

describe('Redis down', () => {
  let redis: RedisServer;
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    await redis.stop();
  });
  afterAll(async () => {
    await gw?.stop();
    await redis?.destroy();
  });

  it('the gateway starts without Redis, serves, and a committed stock change is not reported as an error', async () => {
    gw = await startTestGateway({ databaseUrl: database.url, redisUrl: redis.url });
    expect((await fetch(gw.url.replace('/graphql', '/readyz'))).status).toBe(200);
    expect(dataOf(await gql(gw.url, '{ product(id: "3") { id } }'))).toEqual({ product: { id: '3' } });
    const { token } = await signIn(gw.url, EMAILS.platform);
    const reply = await gql(gw.url, 'mutation { setStock(productId: "3", onHand: 41) { onHand } }', {}, bearer(token));
    expect(dataOf(reply)).toEqual({ setStock: { onHand: 41 } });
    const [stock] = await sqlRows<{ onHand: number }>(
      database.url,
      'SELECT "onHand" FROM "Inventory" WHERE "productId" = 3',
    );
    expect(stock?.onHand).toBe(41);

    // Redis comes back: the gateway uses it without a restart.
    await redis.start();
    const deadline = Date.now() + 10_000;
    let mode = '';
    while (Date.now() < deadline) {
      const readiness = (await (await fetch(gw.url.replace('/graphql', '/readyz'))).json()) as {
        redis: string;
        redisCircuit: string;
      };
      mode = `${readiness.redis}/${readiness.redisCircuit}`;
      if (mode === 'up/closed') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(mode).toBe('up/closed');
  });
});
