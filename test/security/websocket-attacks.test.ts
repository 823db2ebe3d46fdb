// WebSocket attacks against a production gateway (child process, real PostgreSQL and Redis): a client
// that stops reading is closed once its backlog passes WS_MAX_BUFFERED_BYTES while 100 other subscribers
// keep receiving; caps on operations per socket, sockets per IP and per user; the Origin allow-list;
// introspection off as over HTTP; the per-IP gate charges WebSocket operations; and the subscriptions
// gauge is back to zero once the sockets are gone. /healthz answers within 100 ms throughout.
import { readFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { EMAILS } from '../accounts/kit.ts';
import { SEED_PASSWORD, sleep } from '../support/kit.ts';
import { freshIp, post, startProductionGateway, underAttack, type ProductionGateway } from './attack-kit.ts';

const HEALTH_MS = 100;
const MAX_BUFFERED = 256 * 1024;
const SUBSCRIPTIONS_PER_SOCKET = 50;
const SOCKETS_PER_IP = 12;
const SOCKETS_PER_USER = 3;
const REQUESTS_PER_IP = 60;
const ORIGIN = 'https://shop.example';
const STOCK = 'subscription ($id: ID!) { inventoryChanged(productId: $id) { productId onHand available inStock } }';
/** The same events, each about 1 KB: aliases make a slow reader's backlog grow fast. */
const HEAVY = `subscription ($id: ID!) { inventoryChanged(productId: $id) { ${Array.from(
  { length: 25 },
  (_, i) => `t${i}: updatedAt`,
).join(' ')} } }`;

let gw: ProductionGateway;
let wsUrl: string;
let adminToken: string;
const clients: Client[] = [];
const raw: WebSocket[] = [];

beforeAll(async () => {
  gw = await startProductionGateway(inject('adminDatabaseUrl'), inject('templateDatabase'), inject('redisUrl'), {
    WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: String(SUBSCRIPTIONS_PER_SOCKET),
    WS_MAX_SOCKETS_PER_IP: String(SOCKETS_PER_IP),
    WS_MAX_SOCKETS_PER_USER: String(SOCKETS_PER_USER),
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: String(REQUESTS_PER_IP),
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    ALLOWED_ORIGINS: ORIGIN,
  });
  wsUrl = gw.url.replace(/^http/, 'ws');
  adminToken = await tokenOf(EMAILS.platform);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  for (const socket of raw) socket.terminate();
  await gw?.stop();
});

async function tokenOf(email: string): Promise<string> {
  const answer = await post(gw.url, {
    query: `mutation { signIn(email: "${email}", password: "${SEED_PASSWORD}") { token } }`,
  });
  return (answer.body!.data as { signIn: { token: string } }).signIn.token;
}

/** A graphql-ws client whose socket comes from `ip` (the gateway trusts X-Forwarded-For here). */
function clientFrom(ip: string, connectionParams: Record<string, unknown> = {}): Client {
  class FromIp extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': ip } });
    }
  }
  const client = createClient({
    url: wsUrl,
    webSocketImpl: FromIp,
    retryAttempts: 0,
    lazy: false,
    connectionParams,
    onNonLazyError: () => undefined,
  });
  clients.push(client);
  return client;
}

/** A raw graphql-transport-ws socket, acknowledged. */
async function rawSocket(ip: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { 'x-forwarded-for': ip, ...headers } });
  raw.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve();
    });
  });
  return socket;
}

/** Subscribes once and resolves with the first message for that id (next or error). */
function firstAnswer(socket: WebSocket, id: string, query: string, variables: Record<string, unknown> = {}) {
  return new Promise<{ type: string; payload: unknown }>((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(String(data));
      if (message.id !== id) return;
      socket.off('message', onMessage);
      resolve(message);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
  });
}

async function setStock(onHand: number): Promise<void> {
  const answer = await post(
    gw.url,
    { query: `mutation { setStock(productId: "1", onHand: ${onHand}) { available } }` },
    { authorization: `Bearer ${adminToken}` },
  );
  expect(answer.body?.errors, answer.text).toBeUndefined();
}

async function activeSubscriptions(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
  return Number(/^cachegate_subscriptions_active (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('a client that stops reading', () => {
  it('is closed before its backlog passes WS_MAX_BUFFERED_BYTES, while 100 subscribers keep receiving', {
    timeout: 90_000,
  }, async () => {
    // 100 subscribers, ten to an address.
    const received = Array.from({ length: 100 }, () => [] as number[]);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const client = clientFrom(`10.88.0.${Math.floor(i / 10) + 1}`);
      ready.push(
        new Promise<void>((resolve) => {
          client.on('connected', () => resolve());
        }),
      );
      client.subscribe<{ inventoryChanged: { onHand: number } }>(
        { query: STOCK, variables: { id: '1' } },
        {
          next: (value) => received[i]!.push(value.data!.inventoryChanged.onHand),
          error: () => {},
          complete: () => {},
        },
      );
    }
    await Promise.all(ready);

    // The slow reader: the most subscriptions a socket may have, then it stops reading.
    const slow = await rawSocket('10.88.1.1');
    const refusedIds: string[] = [];
    slow.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id: string; type: string };
      if (message.type === 'error') refusedIds.push(message.id);
    });
    for (let i = 0; i < SUBSCRIPTIONS_PER_SOCKET; i++)
      slow.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: HEAVY, variables: { id: '1' } } }));
    await sleep(500); // every subscription registered (and the 100 clients' too)
    expect(refusedIds).toEqual([]);
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    const closedLine = /"msg":"websocket closed: the client is not reading"/;

    const rssBefore = rssOf(gw.child.pid);
    let published = 0;
    const { healthMs, medianHealthMs } = await underAttack(
      gw.base,
      async () => {
        while (!closedLine.test(gw.child.stdout()) && published < 2_000) await setStock(++published);
      },
      { attempts: 1 }, // not repeatable: the socket is gone
    );
    const rssAfter = rssOf(gw.child.pid);
    expect(gw.child.stdout()).toMatch(closedLine);
    const line = gw.child
      .stdout()
      .split('\n')
      .find((l) => closedLine.test(l))!;
    const backlog = (JSON.parse(line) as { bufferedBytes: number }).bufferedBytes;
    console.log(
      `[slow reader] closed after ${published} publishes; backlog ${backlog} B (bound ${MAX_BUFFERED}); ` +
        `gateway RSS ${(rssBefore / 1e6).toFixed(0)} -> ${(rssAfter / 1e6).toFixed(0)} MB; ` +
        `healthz over baseline: median ${medianHealthMs.toFixed(0)} ms, max ${healthMs.toFixed(0)} ms`,
    );
    // The backlog stops at the bound plus the one message that crossed it.
    expect(backlog).toBeLessThan(MAX_BUFFERED + 16 * 1024);
    // Many health answers over seconds of publishing: the median, since one slow answer on a busy test
    // machine says nothing about the gateway (the slowest is printed above).
    expect(medianHealthMs).toBeLessThan(HEALTH_MS);

    // The others are unaffected: a few more changes reach all 100, and every one of them has them all.
    for (let i = 1; i <= 3; i++) await setStock(published + i);
    const total = published + 3;
    for (let wait = 0; wait < 100 && received.some((r) => r.length < total); wait++) await sleep(100);
    for (const values of received) expect(values.at(-1)).toBe(total);
    expect(received.every((r) => r.length === total)).toBe(true);

    // The slow socket is gone on the gateway's side: reading again finds it closed.
    const closed = new Promise<number>((resolve) => slow.once('close', (code) => resolve(code)));
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1006, 4413]).toContain(await closed);
  });
});

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

describe('caps and the same rules as HTTP', () => {
  it('operations per socket are capped; the next is refused with a code', async () => {
    const socket = await rawSocket(freshIp());
    const answers = await Promise.all(
      Array.from({ length: SUBSCRIPTIONS_PER_SOCKET }, (_, i) =>
        firstAnswerOrNothing(socket, `c${i}`, STOCK, { id: '2' }),
      ),
    );
    expect(answers.every((a) => a === undefined)).toBe(true);
    const { result, healthMs } = await underAttack(gw.base, () => firstAnswer(socket, 'over', STOCK, { id: '2' }));
    expect(healthMs).toBeLessThan(HEALTH_MS);
    const last = result as { type: string; payload: { extensions: { code: string } }[] };
    expect(last.type).toBe('error');
    expect(last.payload[0]!.extensions.code).toBe('RATE_LIMITED');
    socket.close();
  });

  it('sockets per IP and per user are capped', async () => {
    const ip = freshIp();
    for (let i = 0; i < SOCKETS_PER_IP; i++) await rawSocket(ip);
    await expect(rawSocket(ip)).rejects.toThrow(/upgrade refused: 429/);

    const token = await tokenOf(EMAILS.customer);
    const closes: Promise<number>[] = [];
    for (let i = 0; i <= SOCKETS_PER_USER; i++) {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { 'x-forwarded-for': freshIp() } });
      raw.push(socket);
      closes.push(new Promise((resolve) => socket.once('close', (code) => resolve(code))));
      await new Promise<void>((resolve) => {
        socket.once('open', () =>
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
        );
        socket.on('message', () => resolve());
        socket.once('close', () => resolve());
      });
    }
    expect(await closes.at(-1)).toBe(4430);
  });

  it('a browser origin that is not allowed is refused; an allowed one and no origin are accepted', async () => {
    await expect(rawSocket(freshIp(), { origin: 'https://evil.example' })).rejects.toThrow(/upgrade refused: 403/);
    (await rawSocket(freshIp(), { origin: ORIGIN })).close();
    (await rawSocket(freshIp())).close();
    // The gateway's own app at /app/: its origin is the host the socket connects to, listed or not.
    (await rawSocket(freshIp(), { origin: new URL(wsUrl).origin.replace(/^ws/, 'http') })).close();
    await expect(
      rawSocket(freshIp(), { origin: new URL(wsUrl).origin.replace(/^ws/, 'http').replace('127.0.0.1', 'localhost') }),
    ).rejects.toThrow(/upgrade refused: 403/);
  });

  it('introspection is refused in production as over HTTP; malformed operations are charged by the gate', async () => {
    const socket = await rawSocket(freshIp());
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "User") { fields { name } } }']) {
      const answer = (await firstAnswer(socket, query, query)) as { type: string; payload: unknown };
      expect(answer.type).toBe('error');
      expect(JSON.stringify(answer.payload)).toMatch(/GRAPHQL_VALIDATION_FAILED/);
      expect(JSON.stringify(answer.payload)).not.toMatch(/"fields"|"User"\s*,/);
    }
    const codes: string[] = [];
    for (let i = 0; i < REQUESTS_PER_IP + 2; i++) {
      const answer = (await firstAnswer(socket, `m${i}`, '{ products(')) as {
        payload: { extensions: { code: string } }[];
      };
      codes.push(answer.payload[0]!.extensions.code);
    }
    expect(codes).toContain('GRAPHQL_PARSE_FAILED');
    expect(codes.at(-1)).toBe('RATE_LIMITED');
  });

  it('subscriptions get metrics like HTTP operations; the gauge is back to zero once sockets are gone', async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    for (const socket of raw) socket.terminate();
    let active = await activeSubscriptions();
    for (let i = 0; i < 50 && active !== 0; i++) {
      await sleep(100);
      active = await activeSubscriptions();
    }
    expect(active).toBe(0);
    // Every finished subscription was counted by the same guard as HTTP operations.
    const text = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
    const finished = [...text.matchAll(/^cachegate_graphql_requests_total\{[^}]*type="subscription"[^}]*\} (\d+)/gm)];
    expect(finished.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThanOrEqual(100);
  });
});

/** The first answer for an id within 300 ms, or undefined when the subscription is quietly running. */
async function firstAnswerOrNothing(socket: WebSocket, id: string, query: string, variables: Record<string, unknown>) {
  return Promise.race([firstAnswer(socket, id, query, variables), sleep(300).then(() => undefined)]);
}
