// Shared by the query tests: one real gateway per test file over the run's seeded, read-only database
// (no Redis: L1 + PostgreSQL), and direct SQL against the same database to compute the expected answers.
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { useTestGateway, type GraphQLResponse, type TestGateway } from '../support/gateway.ts';

export type { GraphQLResponse, TestGateway };

/** A gateway over the run's seeded database for the file's tests; call at the top level of a file. */
export function useSharedGateway(): () => TestGateway {
  return useTestGateway(() => ({ databaseUrl: inject('databaseUrl') }));
}

/** A pg client to the seeded database for expected values, opened before and closed after the file's tests. */
export function useSql(): <T extends pg.QueryResultRow>(text: string, params?: unknown[]) => Promise<T[]> {
  let client: pg.Client | undefined;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });
  return async (text, params) => {
    if (!client) throw new Error('the SQL client is not connected');
    return (await client.query(text, params)).rows;
  };
}

/** Decimal(12,2) as PostgreSQL prints it and as the gateway serialises it: "1299.90". */
export const DECIMAL_STRING = /^\d+\.\d{2}$/;
