// Graceful shutdown of the real process (`tsx src/main.ts` against an external PostgreSQL): on SIGTERM
// open graphql-ws subscriptions are closed, the process exits 0, and the port stops accepting connections.
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { getFreePort } from '../support/free-port.ts';
import { isPortOpen } from '../support/process-utils.ts';
import { spawnGateway, terminateAndExpectCleanExit, waitUntilReady, type ChildGateway } from './child-gateway.ts';
import { sleep } from '../support/kit.ts';

let database: TestDatabase;
let gateway: ChildGateway;
let port: number;
let eventId: string;
let wsClient: Client | undefined;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'), 'cg_shutdown');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM "Event" WHERE name = 'Merdeka Night Concert'`);
    if (!rows[0]) throw new Error('the template has no "Merdeka Night Concert"');
    eventId = rows[0].id;
  } finally {
    await client.end();
  }
  port = await getFreePort();
  gateway = spawnGateway({
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '5000',
  });
  await waitUntilReady(gateway, port, 60_000);
}, 90_000);

afterAll(async () => {
  await wsClient?.dispose();
  if (gateway && !gateway.hasExited()) gateway.killGroup();
  await database?.drop();
}, 30_000);

async function activeSubscriptions(): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^cachegate_subscriptions_active (\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('SIGTERM', () => {
  it('closes the open subscription, exits 0, and new connections are refused afterwards', async () => {
    let closeCode: number | undefined;
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => (closed = resolve));
    wsClient = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined, // the close at shutdown is expected; the test checks it below
      on: {
        closed: (event) => {
          closeCode = (event as { code?: number }).code;
          closed();
        },
      },
    });
    let subscriptionEnded!: (how: string) => void;
    const subscriptionEnd = new Promise<string>((resolve) => (subscriptionEnded = resolve));
    const received: unknown[] = [];
    wsClient.subscribe(
      {
        query: 'subscription ($eventId: ID!) { seatsChanged(eventId: $eventId) { eventId seats { id status } } }',
        variables: { eventId },
      },
      {
        next: (value) => received.push(value),
        error: () => subscriptionEnded('error'),
        complete: () => subscriptionEnded('complete'),
      },
    );

    // The server counts the subscription once it has accepted it.
    for (let i = 0; i < 100 && (await activeSubscriptions()) !== 1; i += 1) await sleep(50);
    expect(await activeSubscriptions()).toBe(1);

    await terminateAndExpectCleanExit(gateway);
    expect.soft(gateway.stdout(), 'the shutdown ran to its end').toContain('shutdown complete');

    // The client saw its socket closed by the server, and its subscription ended.
    await Promise.race([socketClosed, sleep(5_000)]);
    expect(closeCode, 'the WebSocket client saw no close').toBeDefined();
    expect(closeCode).toBe(1001); // "going away"
    expect(await Promise.race([subscriptionEnd, sleep(5_000).then(() => 'still open')])).not.toBe('still open');
    expect(received).toEqual([]); // nothing changed seats meanwhile

    // Nothing accepts connections on the port any more.
    expect(await isPortOpen(port)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  }, 60_000);
});
