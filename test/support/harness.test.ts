// Proves the harness runs real servers: they answer, they really go away when stopped (clients see
// connection refused), and they come back on the same port with the same data.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createDatabaseFromTemplate } from './database.ts';
import { rawRedis } from './kit.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';
import { pingRedis, startRedis, type RedisServer } from './redis-server.ts';

/** A client that fails fast instead of retrying, so a dead server shows up as an error. */
const oneShotRedis = (url: string): Redis =>
  new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });

/** The socket error a fresh client gets when connecting (ioredis emits it; connect() only says "closed"). */
async function redisConnectError(url: string): Promise<unknown> {
  const client = oneShotRedis(url);
  let socketError: unknown;
  client.on('error', (error: unknown) => (socketError ??= error));
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return socketError ?? error;
  } finally {
    client.disconnect();
  }
}

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('shared servers from global setup', () => {
  test('redis answers PING', async () => {
    const client = rawRedis(inject('redisUrl')); // the run's Redis may be the cluster (REDIS_TOPOLOGY)
    await client.connect();
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  test('the shared database is migrated', async () => {
    const rows = await pgQuery<{ n: number }>(
      inject('databaseUrl'),
      'SELECT count(*)::int AS n FROM "_prisma_migrations"',
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  test('createDatabaseFromTemplate gives a private writable copy, and drop removes it', async () => {
    const admin = inject('adminDatabaseUrl');
    const db = await createDatabaseFromTemplate(admin, inject('templateDatabase'));
    await pgQuery(db.url, 'CREATE TABLE harness_probe (id int)');
    const copies = await pgQuery<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'harness_probe'",
    );
    expect(copies[0]?.n).toBe(1);
    await db.drop();
    const left = await pgQuery<{ n: number }>(
      admin,
      `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${db.name}'`,
    );
    expect(left[0]?.n).toBe(0);
  });
});

describe('private redis-server', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.destroy());

  test('stop() kills it (connection refused) and start() brings it back on the same port', async () => {
    expect(await pingRedis(redis.port)).toBe(true);
    await redis.stop();
    expect(await redisConnectError(redis.url)).toMatchObject({ code: 'ECONNREFUSED' });
    await redis.start();
    const client = oneShotRedis(redis.url);
    await client.connect();
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});

describe('private PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => server?.destroy());

  test('stop() refuses connections, start() brings the same data back on the same port', async () => {
    await pgQuery(server.adminUrl, 'CREATE TABLE survives_restart (id int); INSERT INTO survives_restart VALUES (42)');
    await server.stop();
    await expect(pgQuery(server.adminUrl, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.start();
    const rows = await pgQuery<{ id: number }>(server.adminUrl, 'SELECT id FROM survives_restart');
    expect(rows).toEqual([{ id: 42 }]);
  });
});
