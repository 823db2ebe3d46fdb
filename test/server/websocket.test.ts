// Operations over WebSocket (graphql-ws) get the same masking and query limits as over HTTP: bad
// variables and tampered cursors are BAD_USER_INPUT without hints or source paths, and the depth limit
// refuses a query before it runs. A real gateway over the run's seeded database.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, sleep, waitUntil, type GraphQLError } from '../support/kit.ts';

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

describe('sockets of sessions that end', () => {
  let a: TestGateway;
  let b: TestGateway;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
    const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
    [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  it("a sign-out on instance A closes that session's socket on instance B (4401), not another session's", async () => {
    const [ended, kept] = [await signIn(a.url), await signIn(a.url)];
    const closes = new Map<string, number>();
    const open = (name: string, token: string): Client =>
      createClient({
        url: b.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${token}` },
        on: { closed: (event) => void closes.set(name, (event as { code: number }).code) },
      });
    const clients = [open('ended', ended.token), open('kept', kept.token)];
    try {
      // Subscribed and connected (the server knows the sockets' sessions once connection_init is answered).
      for (const client of clients)
        client.subscribe(
          { query: 'subscription { inventoryChanged(productId: "1") { onHand } }' },
          {
            next: () => undefined,
            error: () => undefined,
            complete: () => undefined,
          },
        );
      await waitUntil(async () => (await b.metrics.subscriptionsActive.get()).values[0]?.value === 2, 5_000, 'both');
      dataOf(await gql(a.url, 'mutation { signOut }', {}, ended.headers));
      await waitUntil(() => closes.has('ended'), 5_000, "the ended session's socket to close");
      expect(closes.get('ended')).toBe(4401);
      await sleep(200);
      expect(closes.has('kept')).toBe(false);
    } finally {
      await Promise.allSettled(clients.map((c) => c.dispose()));
    }
  });
});
