// Operations over WebSocket (graphql-ws) get the same masking and query limits as over HTTP: bad
// variables and tampered cursors are BAD_USER_INPUT without hints or source paths, and the depth limit
// refuses a query before it runs. A real gateway over the run's seeded database.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import type { GraphQLError } from '../support/kit.ts';

interface Result {
  data?: unknown;
  errors?: GraphQLError[];
}

/** Every result of one operation; a refusal of the whole operation comes back as one result with errors. */
async function wsQuery(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Result[]> {
  const results: Result[] = [];
  try {
    for await (const result of client.iterate({ query, variables })) results.push(result as Result);
  } catch (errors) {
    // graphql-ws rejects with the error list when the server refuses the operation outright.
    results.push({ errors: errors as GraphQLError[] });
  }
  return results;
}

describe('operations over WebSocket', () => {
  let gw: TestGateway;
  let client: Client;
  beforeAll(async () => {
    gw = await startTestGateway({ databaseUrl: inject('databaseUrl'), env: { QUERY_MAX_DEPTH: '4' } });
    client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.stop();
  });

  it('bad variables are BAD_USER_INPUT with no "Did you mean" suggestion', async () => {
    const query = 'query ($s: ProductSort) { products(first: 1, sort: $s) { nodes { id } } }';
    const [result] = await wsQuery(client, query, { s: 'NEWST' });
    const error = result?.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).not.toMatch(/did you mean/i);
  });

  it('a tampered cursor is BAD_USER_INPUT, not an internal error with source paths', async () => {
    const after = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 1e20])).toString('base64url');
    const query = 'query ($a: String) { products(first: 1, after: $a) { nodes { id } } }';
    const [result] = await wsQuery(client, query, { a: after });
    const error = result?.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result)).not.toMatch(/\.ts:|\/src\//);
  });

  it('the query depth limit applies before execution', async () => {
    const query = '{ product(id: "1") { category { parent { parent { parent { parent { id } } } } } } }';
    const [result] = await wsQuery(client, query);
    expect(result?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result?.data ?? null).toBeNull();
  });
});
