// Health endpoints against real dependencies that really go away: /healthz says the process lives;
// /readyz says whether it can serve (PostgreSQL required, Redis optional); /metrics is Prometheus text.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrator.ts';
import { withAdminClient } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { sleep } from '../support/kit.ts';

interface ReadyBody {
  status: string;
  postgres: string;
  redis: string;
  cache?: string;
}

async function getJson(url: string): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/** Polls /readyz until `accept` holds (dependencies are noticed going away and coming back within seconds). */
async function readyzUntil(
  base: string,
  accept: (r: { status: number; body: ReadyBody }) => boolean,
  timeoutMs: number,
): Promise<{ status: number; body: ReadyBody }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await getJson(`${base}/readyz`);
    if (accept(result) || Date.now() > deadline) return result;
    await sleep(100);
  }
}

describe('with a private PostgreSQL and a private Redis that the test stops and starts', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let gateway: TestGateway;
  let base: string;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    await withAdminClient(postgres.adminUrl, (client) => client.query('CREATE DATABASE cachegate'));
    await applyMigrations(postgres.urlFor('cachegate')); // empty tables are enough here: no seed
    gateway = await startTestGateway({ databaseUrl: postgres.urlFor('cachegate'), redisUrl: redis.url });
    base = new URL(gateway.url).origin;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  }, 60_000);

  it('/healthz is 200', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 with postgres up and redis up', async () => {
    // Each probe allows its check one second; on a loaded machine the first one after start can miss it.
    const { status, body } = await readyzUntil(base, (r) => r.status === 200, 10_000);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'up', cache: 'redis' });
  });

  it('with Redis stopped, /readyz stays 200 and reports redis down; queries still answer', async () => {
    await redis.stop();
    const { status, body } = await readyzUntil(base, (r) => r.body.redis === 'down', 10_000);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'down' });
    const response = await gateway.query('{ states { code } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { states: [] } });
  }, 30_000);

  it('with Redis started again, /readyz reports redis up again', async () => {
    await redis.start();
    const { status, body } = await readyzUntil(base, (r) => r.body.redis === 'up', 15_000);
    expect(status).toBe(200);
    expect(body).toMatchObject({ postgres: 'up', redis: 'up' });
  }, 30_000);

  it('with PostgreSQL stopped, /readyz is 503 with postgres down, and a query gets an error with a code, not a ' +
    '500', async () => {
    await postgres.stop();
    const { status, body } = await readyzUntil(base, (r) => r.status === 503, 10_000);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', postgres: 'down' });

    // An id never asked for, so no cache layer can answer it.
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ product(id: "424242") { id name } }' }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    expect(response.status, text).not.toBe(500);
    const result = JSON.parse(text) as {
      errors?: { message: string; extensions?: { code?: unknown; requestId?: unknown } }[];
    };
    expect(result.errors?.length, text).toBeGreaterThan(0);
    expect(typeof result.errors?.[0]?.extensions?.code, text).toBe('string');
    // A backing service that is down is not a bug in the gateway: SERVICE_UNAVAILABLE (src/infra/errors.ts).
    expect.soft(result.errors?.[0]?.extensions?.code, text).toBe('SERVICE_UNAVAILABLE');
    expect(typeof result.errors?.[0]?.extensions?.requestId).toBe('string');
    expect(text).not.toMatch(/ECONNREFUSED|stack|at \/|SELECT/);
  }, 60_000);

  it('with PostgreSQL started again, /readyz is 200 again and queries answer', async () => {
    await postgres.start();
    const { status, body } = await readyzUntil(base, (r) => r.status === 200, 20_000);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'up' });
    const response = await gateway.query('{ product(id: "434343") { id } }');
    expect(response.body).toEqual({ data: { product: null } });
  }, 60_000);
});

describe('without REDIS_URL', () => {
  let gateway: TestGateway;
  let base: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ databaseUrl: inject('databaseUrl') });
    base = new URL(gateway.url).origin;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it('/readyz is 200 with redis disabled and the in-process cache', async () => {
    const { status, body } = await getJson(`${base}/readyz`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', postgres: 'up', redis: 'disabled', cache: 'in-process' });
  });

  it('/metrics counts a named query by operation and an error by code, in Prometheus text', async () => {
    expect((await gateway.query('query HealthProbeStates { states { code } }')).status).toBe(200);
    expect(
      (await gateway.query('query HealthProbeBadId { product(id: "abc") { id } }')).body.errors?.[0]?.extensions?.code,
    ).toBe('BAD_USER_INPUT');

    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE cachegate_graphql_requests_total counter');
    expect(text).toMatch(/^cachegate_graphql_requests_total\{[^}]*operation="HealthProbeStates"[^}]*\} 1$/m);
    expect(text).toMatch(/^cachegate_graphql_requests_total\{[^}]*operation="HealthProbeBadId"[^}]*\} 1$/m);
    expect(text).toContain('# TYPE cachegate_graphql_errors_total counter');
    expect(text).toMatch(/^cachegate_graphql_errors_total\{code="BAD_USER_INPUT"\} [1-9]\d*$/m);
  });
});
