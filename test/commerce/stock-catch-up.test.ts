// A stock change committed while redis-server is dead (SIGKILL) cannot be pushed then; once Redis is back
// the instance that made it pushes the product's current stock, so an inventoryChanged subscriber on the
// other instance ends with PostgreSQL's stock instead of the value before the outage. An instance whose bus
// subscriber comes back after that push asks for it again.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, rawRedis, signIn, waitUntil, type Headers } from '../support/kit.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
let database: TestDatabase;
let writer: TestGateway;
let listener: TestGateway;

const PRODUCT_ID = '7';
const SET_STOCK = 'mutation ($id: ID!, $onHand: Int!) { setStock(productId: $id, onHand: $onHand) { onHand } }';

beforeAll(async () => {
  redis = await startRedis();
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const cachePrefix = randomPrefix();
  const start = () => startTestGateway({ databaseUrl: database.url, redisUrl: redis.url, cachePrefix });
  [writer, listener] = await Promise.all([start(), start()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([writer, listener].map((g) => g?.stop()));
  await redis?.destroy();
  await database?.drop();
});

async function setStock(headers: Headers, onHand: number): Promise<void> {
  expect(dataOf(await writer.query(SET_STOCK, { id: PRODUCT_ID, onHand }, headers))).toEqual({ setStock: { onHand } });
}

/** An inventoryChanged subscriber on the listener, once a live push proves it subscribed. */
async function subscribeLive(headers: Headers): Promise<{ heard: number[]; dispose(): Promise<void> }> {
  const heard: number[] = [];
  const client = createClient({ url: listener.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  client.subscribe(
    { query: `subscription { inventoryChanged(productId: "${PRODUCT_ID}") { onHand } }` },
    {
      next: (message) => heard.push((message.data as { inventoryChanged: { onHand: number } }).inventoryChanged.onHand),
      error: () => undefined,
      complete: () => undefined,
    },
  );
  // Live first: a change with Redis up is heard (graphql-ws gives no "subscribed" signal, so poke until it is).
  await waitUntil(
    async () => {
      await setStock(headers, 50 + heard.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return heard.length > 0;
    },
    10_000,
    'a first push with Redis up',
  );
  return { heard, dispose: () => client.dispose() as Promise<void> };
}

/** SIGKILLs redis-server, sets the stock on the writer (the push fails), restarts it, waits for the catch-up. */
async function missAndCatchUp(headers: Headers, heard: number[], onHand: number): Promise<void> {
  redis.signal('SIGKILL');
  await setStock(headers, onHand); // committed in PostgreSQL; the push fails
  await redis.start();
  await waitUntil(() => heard.at(-1) === onHand, 15_000, 'the stock set during the outage to be pushed');
}

it('a stock change made while Redis was dead reaches a subscriber on another instance once Redis is back', async () => {
  const { headers } = await signIn(writer.url);
  const { heard, dispose } = await subscribeLive(headers);
  try {
    await missAndCatchUp(headers, heard, 77);
    expect(heard.at(-1)).toBe(77);
  } finally {
    await dispose();
  }
}, 60_000);

it('an instance whose subscriber connection comes back later asks, and hears the caught-up stock again', async () => {
  const { headers } = await signIn(writer.url);
  const { heard, dispose } = await subscribeLive(headers);
  try {
    await missAndCatchUp(headers, heard, 78);
    const pushes = heard.length;
    // The bus subscribers drop now, as one would that came back after the catch-up: nothing is pushed unless
    // the instance asks on reconnecting (the stock itself does not change).
    const admin = rawRedis(redis.url);
    await admin.connect();
    try {
      await admin.client('KILL', 'TYPE', 'pubsub');
    } finally {
      admin.disconnect();
    }
    await waitUntil(() => heard.length > pushes, 15_000, 'the caught-up stock pushed again');
    expect(heard.slice(pushes)).toEqual(heard.slice(pushes).map(() => 78));
  } finally {
    await dispose();
  }
}, 60_000);

it('a push that reached Redis while an instance had no bus subscriber is sent again once it has one', async () => {
  const { headers } = await signIn(writer.url);
  const { heard, dispose } = await subscribeLive(headers);
  const admin = rawRedis(redis.url);
  await admin.connect();
  try {
    // The bus subscribers are cut again and again (they reconnect after 100 ms) while the writer sets the
    // stock: its push reaches Redis, which has no listener subscriber to hand it to, and nothing failed.
    const cutting = setInterval(() => void admin.client('KILL', 'TYPE', 'pubsub').catch(() => undefined), 10);
    try {
      await admin.client('KILL', 'TYPE', 'pubsub');
      await setStock(headers, 79);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      clearInterval(cutting);
    }
    await waitUntil(() => heard.at(-1) === 79, 15_000, 'the push sent again once the listener subscribed');
  } finally {
    admin.disconnect();
    await dispose();
  }
}, 60_000);
