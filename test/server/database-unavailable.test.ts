// What a query fails with when PostgreSQL cuts the gateway's connection (as a fast shutdown does, SQLSTATE
// 57P01) must read as "database unavailable", so the client gets SERVICE_UNAVAILABLE rather than
// INTERNAL_SERVER_ERROR. The cut here is real: pg_terminate_backend on the query's own backend.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/prisma.ts';
import { isDatabaseUnavailable } from '../../src/infra/errors.ts';
import { withPg } from '../support/database.ts';

let db: Database;

beforeAll(() => {
  db = createDatabase({ url: inject('databaseUrl'), poolSize: 2 });
});

afterAll(async () => {
  await db?.$disconnect();
});

/** Terminates the backend running `marker` (a comment in its SQL) once it is seen running. */
async function terminateBackendRunning(marker: string): Promise<void> {
  await withPg(inject('databaseUrl'), async (client) => {
    for (let tries = 0; tries < 100; tries++) {
      const { rowCount } = await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
        [`%${marker}%`],
      );
      if (rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no backend ran ${marker}`);
  });
}

it('a raw query whose connection is terminated is "database unavailable"', async () => {
  const query = db.$queryRawUnsafe('SELECT pg_sleep(5) /* cut-raw */');
  const [outcome] = await Promise.allSettled([query, terminateBackendRunning('cut-raw')]);
  expect(outcome.status).toBe('rejected');
  const error = (outcome as PromiseRejectedResult).reason;
  expect(String(error)).toMatch(/57P01|terminating connection/);
  expect(isDatabaseUnavailable(error)).toBe(true);
});

it('a transaction whose connection is terminated is "database unavailable"', async () => {
  const work = db.$transaction(async (tx) => {
    await tx.$queryRawUnsafe('SELECT pg_sleep(5) /* cut-tx */');
    await tx.$queryRawUnsafe('SELECT 1');
  });
  const [outcome] = await Promise.allSettled([work, terminateBackendRunning('cut-tx')]);
  expect(outcome.status).toBe('rejected');
  expect(isDatabaseUnavailable((outcome as PromiseRejectedResult).reason)).toBe(true);
});

it('a programming error is not "database unavailable"', async () => {
  const [outcome] = await Promise.allSettled([db.$queryRawUnsafe('SELECT no_such_column FROM "Product"')]);
  expect(outcome.status).toBe('rejected');
  expect(isDatabaseUnavailable((outcome as PromiseRejectedResult).reason)).toBe(false);
});

// A connection reset (ECONNRESET, as when PostgreSQL stops under load) has no SQLSTATE: Prisma's pg adapter
// turns it into kind ConnectionClosed, "Server has closed the connection." Resetting a backend's socket
// here would take the shared PostgreSQL through crash recovery, so this checks the shape the postgres-stop
// drill logged (a holdSeats answered INTERNAL_SERVER_ERROR before), field for field.
it('a connection reset, as Prisma reports it, is "database unavailable"', () => {
  const reset = Object.assign(
    new Error('Raw query failed. Code: `N/A`. Message: `Server has closed the connection.`'),
    {
      code: 'P2010',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } } },
    },
  );
  expect(isDatabaseUnavailable(reset)).toBe(true);
  const bare = { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } } };
  expect(isDatabaseUnavailable(bare)).toBe(true);
});
